import {
  AlreadyDecidedError,
  approveSchema,
  createDraftSchema,
  DRAFT_LIMITS,
  newDraft,
  newDraftId,
  rejectionChange,
  rejectSchema,
  type Actor,
} from '../../shared/domain/draft.js';
import { createDraft, decideDraft } from '../../shared/domain/drafts-service.js';
import { MemoryDraftStore } from '../support/memory-stores.js';
import { PayloadTooLargeError, ValidationError } from '../../shared/domain/errors.js';
import { httpStatusOf } from '../../shared/http/error-status.js';
import { parseOrThrow } from '../../shared/domain/validation.js';
import { listDraftsQuerySchema } from '../../shared/http/query.js';

const agent: Actor = { keyId: 'key_agent', name: 'bot', role: 'agent' };
const reviewer: Actor = { keyId: 'key_rev', name: 'alice', role: 'reviewer' };

function problemsOf(fn: () => unknown) {
  try {
    fn();
  } catch (error) {
    if (error instanceof ValidationError) return (error.details as { fields: Array<{ field: string; message: string }> }).fields;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

const valid = { title: 'Send welcome email', content: { to: 'user@example.com', subject: 'Welcome!', body: 'Hello...' }, metadata: { source: 'ai_agent_v1' } };

describe('draft ids', () => {
  it('are 25 lowercase alphanumerics starting with c, like the webhook doc', () => {
    const ids = new Set(Array.from({ length: 1000 }, newDraftId));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^c[a-z0-9]{24}$/);
  });
});

describe('create draft validation', () => {
  it('accepts the doc example and defaults metadata to {}', () => {
    expect(parseOrThrow(createDraftSchema, valid)).toEqual(valid);
    expect(parseOrThrow(createDraftSchema, { title: 't', content: {} }).metadata).toBeUndefined();
  });

  it.each([
    ['missing title', { content: {} }, 'title'],
    ['blank title', { title: '   ', content: {} }, 'title'],
    ['title over 200 chars', { title: 'x'.repeat(201), content: {} }, 'title'],
    ['title of wrong type', { title: 42, content: {} }, 'title'],
    ['missing content', { title: 't' }, 'content'],
    ['array content', { title: 't', content: [1, 2] }, 'content'],
    ['string content', { title: 't', content: 'hello' }, 'content'],
    ['nested metadata', { title: 't', content: {}, metadata: { source: { nested: true } } }, 'metadata.source'],
    ['array in metadata', { title: 't', content: {}, metadata: { tags: ['a'] } }, 'metadata.tags'],
    ['metadata as array', { title: 't', content: {}, metadata: ['a'] }, 'metadata'],
    ['unknown field', { title: 't', content: {}, priority: 'high' }, 'priority'],
    ['lone surrogate in title', { title: 'bad \ud800 text', content: {} }, 'title'],
  ])('rejects %s, naming the field', (_, body, field) => {
    const problems = problemsOf(() => parseOrThrow(createDraftSchema, body));
    expect(problems.map((p) => p.field)).toContain(field);
  });

  it('accepts exactly 200 characters of title and 50 metadata keys, but not 51', () => {
    const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i]));
    expect(() => parseOrThrow(createDraftSchema, { title: 'x'.repeat(200), content: {}, metadata: fifty })).not.toThrow();
    const problems = problemsOf(() => parseOrThrow(createDraftSchema, { title: 't', content: {}, metadata: { ...fifty, extra: 1 } }));
    expect(problems[0]).toEqual({ field: 'metadata', message: 'must have at most 50 keys' });
  });

  it('accepts scalar metadata of every kind', () => {
    const metadata = { s: 'x', n: 1.5, b: false, nil: null };
    expect(parseOrThrow(createDraftSchema, { title: 't', content: {}, metadata }).metadata).toEqual(metadata);
  });

  it('limits content nesting depth without recursion', () => {
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 10_000; i++) deep = { d: deep };
    expect(problemsOf(() => parseOrThrow(createDraftSchema, { title: 't', content: deep }))[0]!.field).toBe('content');
    let ok: Record<string, unknown> = {};
    for (let i = 1; i < DRAFT_LIMITS.contentMaxDepth; i++) ok = { d: ok };
    expect(() => parseOrThrow(createDraftSchema, { title: 't', content: ok })).not.toThrow();
  });
});

describe('content size', () => {
  it('allows 64 KiB of serialized content and refuses one byte more with 413', () => {
    const overhead = JSON.stringify({ body: '' }).length;
    const atLimit = { body: 'a'.repeat(DRAFT_LIMITS.contentMaxBytes - overhead) };
    expect(() => newDraft({ title: 't', content: atLimit }, agent, new Date())).not.toThrow();
    const over = { body: 'a'.repeat(DRAFT_LIMITS.contentMaxBytes - overhead + 1) };
    expect(() => newDraft({ title: 't', content: over }, agent, new Date())).toThrow(PayloadTooLargeError);
  });

  it('counts bytes, not characters', () => {
    const overhead = JSON.stringify({ body: '' }).length;
    const multiByte = { body: 'é'.repeat((DRAFT_LIMITS.contentMaxBytes - overhead) / 2 + 1) };
    expect(() => newDraft({ title: 't', content: multiByte }, agent, new Date())).toThrow(PayloadTooLargeError);
  });

  it('applies the same limit to edited content on approval', async () => {
    const store = new MemoryDraftStore();
    const { draft } = await createDraft(store, valid, agent);
    const huge = { body: 'a'.repeat(DRAFT_LIMITS.contentMaxBytes) };
    await expect(decideDraft(store, draft.id, { kind: 'approve', editedContent: huge }, reviewer)).rejects.toThrow(PayloadTooLargeError);
    expect((await store.get(draft.id))!.status).toBe('pending');
  });
});

describe('new drafts', () => {
  it('start pending with a created history entry by their agent', () => {
    const now = new Date('2026-02-10T12:00:00Z');
    const draft = newDraft(valid, agent, now);
    expect(draft).toMatchObject({ status: 'pending', title: valid.title, createdAt: '2026-02-10T12:00:00.000Z', createdBy: agent });
    expect(draft.history).toEqual([{ action: 'created', at: '2026-02-10T12:00:00.000Z', actor: agent }]);
  });
});

describe('decisions', () => {
  const now = new Date('2026-02-10T12:05:00Z');

  it('rejection records the reason, the reviewer and the time', () => {
    const change = rejectionChange('Content violates policy', reviewer, now);
    expect(change).toMatchObject({ reviewedAt: '2026-02-10T12:05:00.000Z', reviewedBy: reviewer, rejectionReason: 'Content violates policy' });
    expect(change.historyEntry).toMatchObject({ action: 'rejected', reason: 'Content violates policy' });
  });

  it('validates decision bodies strictly', () => {
    expect(problemsOf(() => parseOrThrow(approveSchema, { content: 'x' }))[0]!.field).toBe('content');
    expect(problemsOf(() => parseOrThrow(approveSchema, { contnet: {} }))[0]!.field).toBe('contnet');
    expect(problemsOf(() => parseOrThrow(rejectSchema, { reason: 'x'.repeat(1001) }))[0]!.field).toBe('reason');
    expect(problemsOf(() => parseOrThrow(rejectSchema, { reason: 5 }))[0]!.field).toBe('reason');
  });

  it('a 409 carries the state that won', () => {
    const decided = { ...newDraft(valid, agent, now), status: 'approved' as const, reviewedBy: reviewer, reviewedAt: now.toISOString() };
    const error = new AlreadyDecidedError(decided);
    expect(httpStatusOf(error)).toBe(409);
    expect(error.code).toBe('already_decided');
    expect((error.details as { draft: { status: string; reviewedBy: Actor } }).draft).toMatchObject({ status: 'approved', reviewedBy: reviewer });
  });
});

describe('list query', () => {
  it('accepts status, limit and cursor', () => {
    expect(parseOrThrow(listDraftsQuerySchema, { status: 'pending', limit: '10', cursor: 'abc' })).toEqual({ status: 'pending', limit: 10, cursor: 'abc' });
  });
  it.each([
    [{ status: 'done' }, 'status'],
    [{ limit: '0' }, 'limit'],
    [{ limit: '101' }, 'limit'],
    [{ limit: 'ten' }, 'limit'],
    [{ sort: 'asc' }, 'sort'],
  ])('rejects %p', (query, field) => {
    expect(problemsOf(() => parseOrThrow(listDraftsQuerySchema, query))[0]!.field).toBe(field);
  });
});

describe('inputs JSON cannot carry back faithfully', () => {
  it('refuse numbers too large to represent and a __proto__ metadata key', () => {
    expect(problemsOf(() => parseOrThrow(createDraftSchema, JSON.parse('{"title":"t","content":{"n":1e400}}')))[0]!.field).toBe('content.n');
    const proto = problemsOf(() => parseOrThrow(createDraftSchema, JSON.parse('{"title":"t","content":{},"metadata":{"__proto__":{"x":1}}}')));
    expect(proto[0]!.field).toMatch(/^metadata/);
  });
});

describe('whole numbers beyond ±(2^53−1) below 10^21, which JSON.parse silently rounds', () => {
  const create = (text: string) => problemsOf(() => parseOrThrow(createDraftSchema, JSON.parse(text)));

  it('are refused in content with the path of the number, telling the agent to send a string', () => {
    const problems = create('{"title":"bigint","content":{"accountId":12345678901234567891,"x":1}}');
    expect(problems).toEqual([{ field: 'content.accountId', message: expect.stringContaining('send it as a string') }]);
    expect(create('{"title":"t","content":{"amount":123456789012345678901}}')[0]!.field).toBe('content.amount');
    expect(create('{"title":"t","content":{"a":{"b":[1,-9007199254740992]}}}')[0]!.field).toBe('content.a.b.1');
    expect(create('{"title":"t","content":{"n":1e400}}')[0]!.field).toBe('content.n');
  });

  it('are refused in metadata, naming the key', () => {
    expect(create('{"title":"t","content":{},"metadata":{"accountId":12345678901234567891}}')[0]!.field).toBe('metadata.accountId');
  });

  it('are refused in a reviewer’s edited content (API approve and the review page share the schema)', () => {
    const problems = problemsOf(() => parseOrThrow(approveSchema, { content: JSON.parse('{"accountId":12345678901234567891}') }));
    expect(problems[0]!.field).toBe('content.accountId');
  });

  it('leave safe integers, ordinary decimals and numbers from 10^21 up (sent and kept in exponent form) alone', () => {
    const content = {
      max: Number.MAX_SAFE_INTEGER,
      min: -Number.MAX_SAFE_INTEGER,
      price: 19.99,
      tiny: 5e-324,
      neg: -0.5,
      zero: 0,
      avogadro: 6.02e23,
      big: 1e300,
      e21: -1e21,
    };
    expect(parseOrThrow(createDraftSchema, { title: 't', content, metadata: { n: Number.MAX_SAFE_INTEGER, d: 0.1 } }).content).toEqual(content);
    expect(parseOrThrow(approveSchema, { content }).content).toEqual(content);
  });
});

describe('expiresAt: null', () => {
  it('means no expiry, as absent does (every draft reads back "expiresAt": null)', () => {
    const input = parseOrThrow(createDraftSchema, { title: 't', content: {}, expiresAt: null });
    expect(input.expiresAt).toBeUndefined();
    expect(newDraft(input, agent, new Date()).expiresAt).toBeUndefined();
  });

  it('keeps every other check on expiresAt', () => {
    for (const expiresAt of ['', 'soon', 0, false, {}, '2026-01-01']) {
      expect(problemsOf(() => parseOrThrow(createDraftSchema, { title: 't', content: {}, expiresAt }))[0]!.field).toBe('expiresAt');
    }
    const input = parseOrThrow(createDraftSchema, { title: 't', content: {}, expiresAt: '2026-02-10T12:00:30Z' });
    expect(problemsOf(() => newDraft(input, agent, new Date('2026-02-10T12:00:00Z')))[0]!.field).toBe('expiresAt');
  });
});

describe('single-line display text: title and metadata keys', () => {
  const message = 'must not contain control or bidirectional formatting characters';
  it.each([
    ['right-to-left override', '\u202e'],
    ['newline', '\n'],
    ['carriage return', '\r'],
    ['tab', '\t'],
    ['NUL', '\u0000'],
    ['DEL', '\u007f'],
    ['C1 control', '\u0085'],
    ['line separator', '\u2028'],
    ['paragraph separator', '\u2029'],
    ['left-to-right mark', '\u200e'],
    ['right-to-left mark', '\u200f'],
    ['left-to-right embedding', '\u202a'],
    ['pop directional formatting', '\u202c'],
    ['first strong isolate', '\u2068'],
    ['pop directional isolate', '\u2069'],
  ])('refuse a %s', (_, char) => {
    expect(problemsOf(() => parseOrThrow(createDraftSchema, { title: `Pay ${char}gpj.exe`, content: {} }))).toEqual([{ field: 'title', message }]);
    const key = problemsOf(() => parseOrThrow(createDraftSchema, { title: 't', content: {}, metadata: { [`so${char}urce`]: 'x' } }));
    expect(key[0]!.field).toMatch(/^metadata/);
    expect(key[0]!.message).toMatch(/control or bidirectional/);
  });

  it('accept right-to-left scripts, emoji and other text as written; content is not a display line', () => {
    for (const title of ['שלום עולם', 'مرحبا', '✓ 日本語 🎉 é', 'a\u00a0b', '👩‍👩‍👧']) {
      expect(parseOrThrow(createDraftSchema, { title, content: {} }).title).toBe(title);
    }
    const content = { body: 'line 1\nline 2\t\u202e' };
    expect(parseOrThrow(createDraftSchema, { title: 't', content, metadata: { note: 'a\nb' } }).content).toEqual(content);
  });
});
