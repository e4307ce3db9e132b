import { decisionStreamFilter } from '../../infra/app-definition.js';
import { matchesAny, matchesFilter } from '../../infra/local/event-filter.js';

const record = (eventName: string, oldStatus?: string, newStatus?: string) => ({
  eventName,
  dynamodb: {
    ...(oldStatus ? { OldImage: { status: { S: oldStatus } } } : {}),
    ...(newStatus ? { NewImage: { status: { S: newStatus } } } : {}),
  },
});

describe('the decision stream filter, as the local pump applies it', () => {
  it.each([
    ['pending → approved', record('MODIFY', 'pending', 'approved'), true],
    ['pending → rejected', record('MODIFY', 'pending', 'rejected'), true],
    ['an insert', record('INSERT', undefined, 'pending'), false],
    ['a pending update', record('MODIFY', 'pending', 'pending'), false],
    ['approved → approved', record('MODIFY', 'approved', 'approved'), false],
    ['a removal', record('REMOVE', 'approved'), false],
  ])('%s passes: %s', (_, event, expected) => {
    expect(matchesFilter(decisionStreamFilter, event)).toBe(expected);
  });

  it('passes everything when there are no filters and refuses operators it cannot honour', () => {
    expect(matchesAny([], { anything: 1 })).toBe(true);
    expect(() => matchesFilter({ a: [{ prefix: 'x' }] as never }, { a: 'xy' })).toThrow(/Unsupported/);
  });
});
