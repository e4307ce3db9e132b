/**
 * Building blocks for property-based tests of the JSON API (test/integration/fuzz-api.test.ts):
 * hostile request parts as fast-check arbitraries, an in-process invocation that keeps the raw
 * response body, and the checks every response and every stored draft must pass.
 */
import fc from 'fast-check';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { z } from 'zod';
import { DRAFT_ID_PATTERN, DRAFT_LIMITS, DRAFT_STATUSES } from '../../shared/domain/draft.js';
import { apiEvent, testContext } from './api-events.js';

// ---------------------------------------------------------------------------------------------
// Raw JSON text: values that JSON.stringify cannot produce (1e400, -0, raw lone surrogates).

/** A fragment emitted verbatim into the JSON text. */
export class Raw {
  constructor(readonly text: string) {}
  toString() {
    return `Raw(${this.text.length > 60 ? `${this.text.slice(0, 60)}…[${this.text.length}]` : this.text})`;
  }
}

/** JSON.stringify, except that Raw fragments are written as they are. */
export function toJsonText(value: unknown): string {
  if (value instanceof Raw) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJsonText).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    // Like JSON.stringify, a key whose value is undefined is left out.
    return `{${Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${JSON.stringify(k)}:${toJsonText(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const oddChar = fc.constantFrom(
  '\u0000',
  '\u0001',
  '\u001f',
  '\u007f',
  '\u00a0',
  '\u200b',
  '\u2028',
  '\u2029',
  '\ufeff',
  '\uffff',
  '🎉',
  '日',
  '\u0301',
  '"',
  '\\',
  '/',
  ' ',
  '\n',
  '\t',
);

/** Strings from every corner of Unicode, lone surrogates and NUL included. */
export const nastyString = (maxLength = 40) =>
  fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: fc.oneof(oddChar, loneSurrogate, fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 })), maxLength }),
    fc.constantFrom(
      '',
      ' ',
      '\u0000',
      '\ud800',
      '\udfff',
      'a\ud83d',
      '\u00a0\u2003',
      'null',
      'undefined',
      '__proto__',
      'constructor',
      'toString',
      '../../etc/passwd',
      '%00',
      '%ZZ',
      '<script>alert(1)</script>',
    ),
  );

/** Numbers as JSON text, including ones that do not survive a round trip. */
export const nastyNumber = fc.oneof(
  fc.double().filter(Number.isFinite),
  fc.integer(),
  fc.constantFrom(1e308, -1e308, 5e-324, -0, 0, Number.MAX_SAFE_INTEGER, -Number.MIN_SAFE_INTEGER),
  fc.constantFrom('1e400', '-1e400', '-0', '-0.0', '0e-999999', '9007199254740993', '1E+2', '123456789012345678901234567890').map((t) => new Raw(t)),
  fc.constantFrom('NaN', 'Infinity', '-Infinity', '1e308', 'Infinity!'),
);

/** A string written unescaped into the JSON text (raw lone surrogates and DEL, as the in-process body can hold them). */
const rawString = fc.string({ unit: fc.oneof(fc.constantFrom('a', 'é', '\u007f', '\u2028'), loneSurrogate), maxLength: 20 }).map((s) => new Raw(`"${s}"`));

export const scalar = fc.oneof(nastyString(), nastyNumber, fc.boolean(), fc.constant(null), rawString);

/** Arbitrary JSON trees (and raw fragments), shallow-ish. */
export const jsonish: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', maxDepth: 4 },
    scalar,
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(nastyString(12), tie('value'), { maxKeys: 6 }),
  ),
})).value;

/** `depth` levels of arrays or objects, as text (JSON.parse copes; recursive code may not). */
export const deepText = (depth: number, kind: 'array' | 'object', leaf = '1') =>
  kind === 'array' ? `${'['.repeat(depth)}${leaf}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}${leaf}${'}'.repeat(depth)}`;
export const deepValue = fc
  .record({
    depth: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 30, max: 5000 }), fc.constantFrom(32, 33, 5000)),
    kind: fc.constantFrom('array' as const, 'object' as const),
  })
  .map(({ depth, kind }) => new Raw(deepText(depth, kind)));

/** Strings around the size limits: title 200, metadata value 1000, content 64 KiB, body 256 KiB, up to 300 KiB. */
export const bigString = fc
  .record({
    size: fc.constantFrom(199, 200, 201, 1000, 1001, 65_500, 65_536, 65_537, 256 * 1024 - 40, 256 * 1024, 256 * 1024 + 1, 300 * 1024),
    char: fc.constantFrom('x', 'é', '日', '🎉', '\u0000', '"'),
  })
  .map(({ size, char }) => char.repeat(Math.max(1, Math.floor(size / (char.length === 2 ? 2 : 1)))));

const isoDate = fc.date({ min: new Date('1969-01-01'), max: new Date('2200-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
const soon = fc.integer({ min: -120, max: 400 * 24 * 3600 }).map((s) => new Date(Date.now() + s * 1000).toISOString());
export const expiresAtValue = fc.oneof(
  soon,
  soon.map((s) => s.replace('Z', '+02:00')),
  isoDate,
  nastyString(),
  nastyNumber,
  fc.constantFrom('2026-02-30T00:00:00Z', '9999-12-31T23:59:59Z', '2026-01-01', 'now'),
);

/** A field that is usually present and sound, sometimes missing or broken. */
const field = <T>(sound: fc.Arbitrary<T>, broken: fc.Arbitrary<unknown>, weights = { sound: 8, broken: 3, missing: 1 }) =>
  fc.oneof(
    { arbitrary: sound, weight: weights.sound },
    { arbitrary: broken, weight: weights.broken },
    { arbitrary: fc.constant(undefined), weight: weights.missing },
  );

export const soundTitle = fc
  .oneof(
    fc.string({ minLength: 1, maxLength: 200 }),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 100 }),
  )
  .filter((s) => s.trim().length > 0 && s.length <= 200);
/** Any JSON object within the limits: odd keys and values (lone surrogates, NUL, -0, 1e400) welcome. */
export const soundContent = fc.dictionary(nastyString(12), jsonish, { maxKeys: 8 });
const soundMetadata = fc.dictionary(
  fc.oneof(fc.string({ minLength: 1, maxLength: 20 }), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 10 })),
  fc.oneof(fc.string({ maxLength: 50 }), fc.double().filter(Number.isFinite), fc.integer(), fc.boolean(), fc.constant(null)),
  { maxKeys: 10 },
);

/** Draft-like request bodies: usually the right fields, each sometimes missing, wrong or at a limit; sometimes extra keys. */
export const draftBodyValue = fc.record({
  title: field(
    soundTitle,
    fc.oneof(
      { arbitrary: nastyString(), weight: 4 },
      { arbitrary: bigString, weight: 1 },
      { arbitrary: fc.constantFrom('', '  ', '\u0000', 'T'.repeat(200), 'T'.repeat(201)), weight: 2 },
      { arbitrary: jsonish, weight: 1 },
    ),
  ),
  content: field(
    soundContent,
    fc.oneof(
      jsonish,
      deepValue.map((v) => ({ deep: v })),
      deepValue,
      bigString.map((s) => ({ s })),
      fc.constantFrom<unknown>([], 'x', 1, null, true),
    ),
  ),
  metadata: fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 4 },
    { arbitrary: soundMetadata, weight: 4 },
    { arbitrary: fc.dictionary(nastyString(12), scalar, { maxKeys: 8 }), weight: 2 },
    { arbitrary: fc.dictionary(fc.string({ maxLength: 4 }), fc.constantFrom(1, 'v', true, null), { minKeys: 45, maxKeys: 55 }), weight: 1 },
    { arbitrary: fc.dictionary(nastyString(12), jsonish, { maxKeys: 4 }), weight: 1 },
    { arbitrary: bigString.map((s) => ({ s, [s.slice(0, 150)]: 1 })), weight: 1 },
    { arbitrary: jsonish, weight: 1 },
  ),
  expiresAt: fc.oneof({ arbitrary: fc.constant(undefined), weight: 6 }, { arbitrary: expiresAtValue, weight: 2 }),
  extra: fc.oneof({ arbitrary: fc.constant(undefined), weight: 10 }, { arbitrary: jsonish, weight: 1 }),
});

/** Request bodies as text: near-valid JSON most of the time, plus every other kind of garbage. */
export const bodyText = (near: fc.Arbitrary<unknown>) =>
  fc.oneof(
    { arbitrary: near.map(toJsonText), weight: 8 },
    { arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)), weight: 2 },
    { arbitrary: fc.anything({ withNullPrototype: true, withObjectString: true, withBoxedValues: true, maxDepth: 3 }).map(safeStringify), weight: 1 },
    { arbitrary: jsonish.map(toJsonText), weight: 2 },
    { arbitrary: nastyString(80), weight: 2 },
    { arbitrary: deepValue.map((r) => r.text), weight: 1 },
    { arbitrary: bigString, weight: 1 },
    { arbitrary: bigString.map((s) => JSON.stringify({ title: 't', content: { s } })), weight: 1 },
    {
      arbitrary: fc.constantFrom(
        '',
        ' ',
        '\n',
        'null',
        'true',
        '0',
        '[]',
        '"x"',
        '{',
        '{"title":',
        '{}}',
        '\ufeff{}',
        '{"title":"t","content":{}}garbage',
        'NaN',
        '{"a":NaN}',
        "{'title':'t'}",
      ),
      weight: 2,
    },
  );

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

// ---------------------------------------------------------------------------------------------
// Headers, ids, queries.

const jsonTypes = [
  'application/json',
  'Application/JSON',
  'APPLICATION/JSON;charset=UTF-8',
  'application/json; charset=utf-8',
  'application/json ; charset="utf-8"',
  ' application/json',
  'application/json; charset=latin1; boundary=x',
];
const otherTypes = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/jsonx',
  'application/json-patch+json',
  'application/problem+json',
  'json',
  '',
  ' ',
  ';',
  ';application/json',
  'application/json,text/plain',
  '*/*',
];

/** Content-Type values (undefined: no header at all). Mostly JSON, so bodies reach validation. */
export const contentType = fc.oneof(
  { arbitrary: fc.constantFrom(...jsonTypes), weight: 24 },
  { arbitrary: fc.constant(undefined), weight: 2 },
  { arbitrary: fc.constantFrom(...otherTypes), weight: 2 },
  { arbitrary: nastyString(30), weight: 1 },
);
/** How a client might spell the header name (the gateway lowercases it). */
export const contentTypeName = fc.constantFrom('content-type', 'Content-Type', 'CONTENT-TYPE', 'cOnTeNt-TyPe');

/** A small shared pool, so that keys repeat across runs and replays and reuse conflicts happen. */
export const idempotencyKey = fc.oneof(
  { arbitrary: fc.constant(undefined), weight: 6 },
  { arbitrary: fc.constantFrom('k-1', 'k-2', 'k-3', 'k-4'), weight: 3 },
  { arbitrary: fc.constantFrom('', ' ', '\u0000', 'ключ', 'x'.repeat(255), 'x'.repeat(256), 'y'.repeat(20_000), 'a b', '\t'), weight: 2 },
  { arbitrary: nastyString(300), weight: 2 },
  { arbitrary: fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 300 }), weight: 1 },
);

/** Unrelated headers, which must change nothing. */
export const otherHeaders = fc.dictionary(
  fc.oneof(
    fc.constantFrom('x-forwarded-for', 'accept', 'accept-encoding', 'content-length', 'transfer-encoding', 'cookie', 'host', 'x-amzn-trace-id'),
    fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 20 }),
  ),
  nastyString(60),
  { maxKeys: 3 },
);

/** Values for an {id} path parameter (API Gateway never passes an empty one). */
export const garbageId = fc.oneof(
  fc.string({ minLength: 1, maxLength: 30 }),
  nastyString(40).filter((s) => s.length > 0),
  fc.stringMatching(/^c[a-z0-9]{24}$/),
  fc.stringMatching(/^key_[a-z0-9]{20}$/),
  fc.constantFrom(
    'x'.repeat(64),
    'x'.repeat(65),
    'a'.repeat(2049),
    'é'.repeat(1500),
    'key_'.padEnd(4000, 'z'),
    'test_abc',
    '..',
    '%2F',
    ' ',
    '\u0000',
    'undefined',
    'null',
  ),
);

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8').toString('base64url');
const positionLike = fc.record(
  {
    id: fc.oneof(nastyString(70), fc.stringMatching(/^c[a-z0-9]{24}$/), jsonish),
    listKey: fc.oneof(
      nastyString(250),
      isoDate.map((d) => `${d}#cabc`),
      jsonish,
    ),
    status: fc.oneof(fc.constantFrom(...DRAFT_STATUSES), jsonish),
    kind: fc.oneof(fc.constant('draft'), jsonish),
    keyHash: fc.oneof(fc.stringMatching(/^[0-9a-f]{64}$/), nastyString()),
  },
  { requiredKeys: [] },
);
/** Cursors: forged envelopes (right shape, wrong or hostile position), base64 garbage, plain garbage. */
export const garbageCursor = fc.oneof(
  fc
    .record(
      {
        v: fc.oneof(fc.constant(1), jsonish),
        scope: fc.oneof(fc.constantFrom('drafts:*', 'drafts:pending', 'drafts:approved', 'drafts:rejected', 'drafts:expired', 'keys'), nastyString()),
        key: fc.oneof(positionLike, jsonish),
      },
      { requiredKeys: ['v', 'scope'] },
    )
    .map(b64),
  jsonish.map((v) => b64(toJsonText(v))),
  nastyString(60),
  fc.constantFrom('', '=', 'A'.repeat(2048), 'A'.repeat(2049), b64('{"v":1,"scope":"drafts:*","key":{"id":"","listKey":"","kind":"draft"}}')),
);

/** ?status=&limit=&cursor= with garbage, unknown names, and (given) real cursors. */
export const queryParameters = (realCursors: string[]) =>
  fc
    .option(
      fc
        .record(
          {
            status: fc.oneof(fc.constantFrom(...DRAFT_STATUSES), fc.constantFrom('PENDING', 'pending,approved', ' pending', ''), nastyString()),
            limit: fc.oneof(
              fc.integer({ min: -5, max: 150 }).map(String),
              fc.constantFrom('0', '1', '100', '101', '1e2', '1.5', '0x10', '999999999999999999999999', '', ' 5', '-0', 'NaN'),
              nastyString(),
            ),
            cursor: realCursors.length > 0 ? fc.oneof(garbageCursor, fc.constantFrom(...realCursors)) : garbageCursor,
            extra: nastyString(),
          },
          { requiredKeys: [] },
        )
        .chain((q) =>
          fc.option(nastyString(10), { nil: undefined }).map((name) => (name !== undefined && q.extra !== undefined ? { ...q, [name]: q.extra } : q)),
        ),
      { nil: undefined, freq: 4 },
    )
    .map((q) => (q ? (Object.fromEntries(Object.entries(q).filter(([, v]) => typeof v === 'string')) as Record<string, string>) : undefined));

// ---------------------------------------------------------------------------------------------
// Credentials.

export type KeyRole = 'agent' | 'reviewer' | 'admin';
export interface AuthCase {
  header?: string;
  /** The role the header proves, or undefined when it proves nothing (expect 401). */
  role?: KeyRole;
  label: string;
}

/**
 * Mostly a valid key of a role the route allows (spelled as clients might), so requests reach
 * validation; sometimes a role it refuses, and sometimes a missing, wrong, revoked or hostile header.
 */
export function authorization(keys: Record<KeyRole | 'revoked', string>, allowed: readonly string[] = ['agent', 'reviewer', 'admin']): fc.Arbitrary<AuthCase> {
  const all: KeyRole[] = ['agent', 'reviewer', 'admin'];
  const permitted = all.filter((r) => allowed.includes(r));
  const refused = all.filter((r) => !allowed.includes(r));
  const spelled = (roles: KeyRole[]) =>
    fc
      .tuple(
        fc.constantFrom(...roles),
        fc.constantFrom('bearer', 'BEARER', 'Bearer', 'bEaReR'),
        fc.constantFrom(' ', '  ', '\t'),
        fc.constantFrom('', ' ', '\t '),
      )
      .map(([r, scheme, gap, tail]): AuthCase => ({ header: `${scheme}${gap}${keys[r]}${tail}`, role: r, label: `spelled ${r}` }));
  const plain = (roles: KeyRole[]) => fc.constantFrom(...roles).map((r): AuthCase => ({ header: `Bearer ${keys[r]}`, role: r, label: `valid ${r}` }));
  const invalid = fc.oneof(
    fc.constant<AuthCase>({ label: 'missing' }),
    fc.constant<AuthCase>({ header: `Bearer ${keys.revoked}`, label: 'revoked' }),
    fc
      .constantFrom(
        '',
        'Bearer',
        'Bearer ',
        'Basic dXNlcjpwYXNz',
        `Token ${keys.admin}`,
        `Bearer ${keys.admin}x`,
        `Bearer ${keys.admin.slice(0, -1)}`,
        `Bearer ${keys.admin} ${keys.admin}`,
        `Bearer${keys.admin}`,
        keys.admin,
        'Bearer prk_',
        `Bearer ${keys.admin.toUpperCase()}`,
        `Bearer "${keys.admin}"`,
        `Bearer ${keys.admin},Bearer ${keys.admin}`,
      )
      .map((header): AuthCase => ({ header, label: 'wrong' })),
    nastyString(80).map((s): AuthCase => ({ header: s, label: 'garbage' })),
    nastyString(300)
      .filter((s) => s.length > 0 && !/\s/.test(s))
      .map((s): AuthCase => ({ header: `Bearer ${s}`, label: 'unknown' })),
    fc.constant<AuthCase>({ header: `Bearer ${'k'.repeat(9000)}`, label: 'huge' }),
  );
  return fc.oneof(
    { arbitrary: permitted.length > 0 ? plain(permitted) : invalid, weight: 10 },
    { arbitrary: permitted.length > 0 ? spelled(permitted) : invalid, weight: 1 },
    { arbitrary: refused.length > 0 ? plain(refused) : invalid, weight: 2 },
    { arbitrary: invalid, weight: 2 },
  );
}

// ---------------------------------------------------------------------------------------------
// Invocation and checks.

export interface FuzzRequest {
  routeKey: string;
  auth: AuthCase;
  contentTypeName?: string;
  contentType?: string;
  idempotencyKey?: string;
  headers?: Record<string, string>;
  body?: string;
  base64?: boolean;
  id?: string;
  query?: Record<string, string>;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | number | boolean>;
  text: string;
}

export function fuzzEvent(request: FuzzRequest): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = { ...request.headers };
  // Whatever the unrelated headers held, the ones under test win.
  for (const name of Object.keys(headers)) if (/^(authorization|content-type|idempotency-key)$/i.test(name)) delete headers[name];
  if (request.auth.header !== undefined) headers.authorization = request.auth.header;
  if (request.contentType !== undefined) headers[request.contentTypeName ?? 'content-type'] = request.contentType;
  if (request.idempotencyKey !== undefined) headers['Idempotency-Key'] = request.idempotencyKey;
  const event = apiEvent({
    routeKey: request.routeKey,
    ...(request.id !== undefined
      ? {
          pathParameters: { id: request.id },
          path: request.routeKey.split(' ')[1]!.replace('{id}', encodeURIComponent(request.id.isWellFormed() ? request.id : request.id.toWellFormed())),
        }
      : {}),
    ...(request.query ? { query: request.query } : {}),
    headers,
    ...(request.body !== undefined ? { body: request.base64 ? Buffer.from(request.body, 'utf8').toString('base64') : request.body } : {}),
  });
  if (request.base64) event.isBase64Encoded = true;
  return event;
}

export async function invokeRaw(handler: unknown, event: APIGatewayProxyEventV2): Promise<RawResponse> {
  const result = await (handler as (e: APIGatewayProxyEventV2, c: unknown) => Promise<APIGatewayProxyStructuredResultV2>)(event, testContext());
  return { status: result.statusCode ?? 0, headers: result.headers ?? {}, text: result.body ?? '' };
}

/** `{error: {code, message, details?}}` and nothing else. */
export const errorShape = z.strictObject({
  error: z.strictObject({ code: z.string().regex(/^[a-z_]+$/), message: z.string().min(1), details: z.unknown().optional() }),
});

/** Traces of an internal error: stack frames, module paths, source files, raw error names. */
const INTERNAL_MARKERS: Array<[string, RegExp]> = [
  ['stack frame', /\bat\s+(?:[\w$.<>[\]]+\s+)?\(?(?:file:\/\/|node:|\/|[A-Za-z]:\\)/],
  ['node_modules', /node_modules/],
  ['source file', /\.(?:ts|js|mjs|cjs):\d*/],
  ['error name', /\b(?:[A-Z]\w*)?Error:/],
  ['AWS exception', /\b[A-Z]\w*Exception\b/],
  ['SDK metadata', /\$metadata|httpStatusCode|\$fault/],
];

export function internalMarkers(text: string): string[] {
  return INTERNAL_MARKERS.filter(([, re]) => re.test(text)).map(([name]) => name);
}

/**
 * The properties every response must have, whatever was sent: 2xx or 4xx, JSON, errors in
 * exactly the error shape, and nothing of the internals, unless the request itself carried the
 * same text (error messages may echo a content type or an id).
 */
export function checkResponse(response: RawResponse, request: FuzzRequest): unknown {
  const context = () => `status ${response.status} for ${describeRequest(request)}\nbody: ${response.text.slice(0, 2000)}`;
  if (!((response.status >= 200 && response.status < 300) || (response.status >= 400 && response.status < 500))) {
    throw new Error(`expected 2xx or 4xx, got ${context()}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(response.text);
  } catch {
    throw new Error(`response body is not JSON: ${context()}`);
  }
  if (!String(response.headers['content-type'] ?? '').startsWith('application/json')) throw new Error(`response is not labelled JSON: ${context()}`);
  if (response.status >= 400) {
    const shape = errorShape.safeParse(parsed);
    if (!shape.success) throw new Error(`4xx body is not {error: {code, message, details?}}: ${shape.error.message}\n${context()}`);
  }
  const echoed = new Set(internalMarkers(requestText(request)));
  const leaked = internalMarkers(response.text).filter((m) => !echoed.has(m));
  if (leaked.length > 0) throw new Error(`response shows internals (${leaked.join(', ')}): ${context()}`);
  return parsed;
}

function requestText(request: FuzzRequest): string {
  return [
    request.auth.header,
    request.contentType,
    request.idempotencyKey,
    request.id,
    JSON.stringify(request.query ?? {}),
    JSON.stringify(request.headers ?? {}),
    request.body,
  ].join('\n');
}

const clip = (s: string | undefined, n = 200) => (s === undefined ? 'undefined' : JSON.stringify(s.length > n ? `${s.slice(0, n)}…[${s.length} chars]` : s));
export function describeRequest(r: FuzzRequest): string {
  return `${r.routeKey} auth=${r.auth.label}${r.id !== undefined ? ` id=${clip(r.id, 80)}` : ''}${r.query ? ` query=${clip(JSON.stringify(r.query))}` : ''} ${r.contentTypeName ?? 'content-type'}=${clip(r.contentType, 60)}${r.idempotencyKey !== undefined ? ` idempotency-key=${clip(r.idempotencyKey, 60)}` : ''}${r.base64 ? ' base64' : ''} body=${clip(r.body)}`;
}

// ---------------------------------------------------------------------------------------------
// Stored drafts.

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const actorShape = z.strictObject({ keyId: z.string().min(1), name: z.string(), role: z.enum(['agent', 'reviewer', 'admin']) });
const jsonObjectText = (max: number) =>
  z.string().superRefine((text, ctx) => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'is not JSON' });
      return;
    }
    if (!isPlainObject(value)) ctx.addIssue({ code: 'custom', message: 'is not a JSON object' });
    if (Buffer.byteLength(JSON.stringify(value), 'utf8') > max) ctx.addIssue({ code: 'custom', message: `is over ${max} bytes serialized` });
  });
const timestamp = z.iso.datetime();
const wellFormedText = (min: number, max: number) =>
  z
    .string()
    .min(min)
    .max(max)
    .refine((s) => s.isWellFormed(), 'is not well-formed Unicode');

/** A drafts-table item as the store writes it, checked against the product's rules (not the code's). */
export const storedDraftItem = z
  .looseObject({
    id: z.string().regex(DRAFT_ID_PATTERN),
    kind: z.literal('draft'),
    status: z.enum(DRAFT_STATUSES),
    listKey: z.string(),
    title: wellFormedText(1, DRAFT_LIMITS.titleMaxChars).refine((s) => s.trim().length > 0, 'is blank'),
    contentJson: jsonObjectText(DRAFT_LIMITS.contentMaxBytes),
    originalContentJson: jsonObjectText(DRAFT_LIMITS.contentMaxBytes).optional(),
    metadataJson: z.string().superRefine((text, ctx) => {
      const parsed = z
        .record(
          wellFormedText(1, DRAFT_LIMITS.metadataKeyMaxChars),
          z.union([wellFormedText(0, DRAFT_LIMITS.metadataValueMaxChars), z.number().finite(), z.boolean(), z.null()]),
        )
        .refine((m) => Object.keys(m).length <= DRAFT_LIMITS.metadataMaxKeys, 'has too many keys')
        .safeParse(safeParse(text));
      if (!parsed.success || !isPlainObject(safeParse(text)))
        ctx.addIssue({ code: 'custom', message: `metadata is not flat scalars ≤ ${DRAFT_LIMITS.metadataMaxKeys} keys` });
    }),
    createdAt: timestamp,
    createdBy: actorShape,
    reviewedAt: timestamp.optional(),
    reviewedBy: actorShape.optional(),
    rejectionReason: wellFormedText(0, DRAFT_LIMITS.rejectionReasonMaxChars).optional(),
    expiresAt: timestamp.optional(),
    history: z.array(z.looseObject({ action: z.enum(['created', 'approved', 'rejected', 'expired']), at: timestamp, actor: actorShape.nullable() })).min(1),
  })
  .superRefine((item, ctx) => {
    if (item.listKey !== `${item.createdAt}#${item.id}`) ctx.addIssue({ code: 'custom', message: 'listKey is not createdAt#id' });
    if (item.history[0]?.action !== 'created') ctx.addIssue({ code: 'custom', message: 'history does not start with created' });
    const decided = item.status === 'approved' || item.status === 'rejected';
    if (decided && (!item.reviewedAt || !item.reviewedBy)) ctx.addIssue({ code: 'custom', message: 'decided without reviewedAt/reviewedBy' });
    if (decided && item.history.at(-1)?.action !== item.status) ctx.addIssue({ code: 'custom', message: 'last history entry does not match the status' });
    if (item.status === 'pending' && (item.reviewedAt || item.history.length !== 1)) ctx.addIssue({ code: 'custom', message: 'pending but reviewed' });
    if (item.originalContentJson !== undefined && item.status !== 'approved')
      ctx.addIssue({ code: 'custom', message: 'originalContent on a draft that is not approved' });
  });

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
