import { pageHandler, type PageAuth } from '../../shared/pages/page-handler.js';

/**
 * Pages that never resume a session (the email links) take no session and key stores, so their
 * function bundles neither; a function with signed-in pages cannot be built without them, by the
 * compiler (the @ts-expect-error lines fail the type check if a wrong call ever compiles) and at load.
 */
describe('the page pipeline without session stores', () => {
  it('is what a function whose routes take no roles may use, and no other', () => {
    const emailLinks: PageAuth<'emailDecisions'> = undefined;
    // @ts-expect-error: the review pages have signed-in routes
    const reviewPages: PageAuth<'reviewPages'> = undefined;
    expect([emailLinks, reviewPages]).toEqual([undefined, undefined]);
  });

  it('refuses to build signed-in pages without them', () => {
    expect(() => pageHandler('reviewPages', undefined as unknown as PageAuth<'reviewPages'>, {} as never)).toThrow(
      'reviewPages has signed-in pages: it needs the session and key stores',
    );
  });
});
