/**
 * SSRF guard for customer webhook endpoints. A customer chooses the URL we POST to, so without
 * this a URL (or a DNS name) pointing at 10.x, 127.x or the cloud metadata service would turn our
 * delivery worker into a proxy into our own network. Two checks, both needed:
 *  - assertDeliverableUrl: at registration, so customers get a clear 400 up front;
 *  - guardedLookup: at delivery, on the address the socket actually connects to, because DNS
 *    answers can change after registration (DNS rebinding).
 */
import { promises as dns, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { ValidationError } from '../domain/errors.js';

export interface UrlPolicy {
  /** Only the local dev runtime sets this: lets webhooks reach a receiver on this machine. */
  allowLocalhostHttp: boolean;
}

/** Resolves a hostname to every address it has, in resolver order. */
export type Resolver = (hostname: string) => Promise<string[]>;

const MAX_URL_LENGTH = 2048;
export const LOCALHOST_ENV_VAR = 'PROCESSA_ALLOW_LOCALHOST_WEBHOOKS';

/** Fail closed: only the exact string "true" opens the localhost exception. */
export function urlPolicyFromEnv(env: NodeJS.ProcessEnv = process.env): UrlPolicy {
  return { allowLocalhostHttp: env[LOCALHOST_ENV_VAR] === 'true' };
}

const defaultResolver: Resolver = async (hostname) => {
  // verbatim keeps the OS order, so we judge the same list the socket would try.
  const answers = await dns.lookup(hostname, { all: true, verbatim: true });
  return answers.map((answer) => answer.address);
};

export class ForbiddenAddressError extends Error {
  readonly code = 'ERR_FORBIDDEN_ADDRESS';

  constructor(
    readonly hostname: string,
    readonly address: string,
    readonly reason: string,
  ) {
    super(`Refusing to connect to ${hostname}: it resolves to ${address}, ${reason}`);
    this.name = 'ForbiddenAddressError';
  }
}

// ---------------------------------------------------------------------------------------------
// Address classification
// ---------------------------------------------------------------------------------------------

/** Metadata endpoints get their own reason: they are the usual SSRF prize (instance credentials). */
const METADATA_ADDRESSES = ['169.254.169.254', 'fd00:ec2::254'].map((ip) => ipaddr.parse(ip).toNormalizedString());

/**
 * Ranges ipaddr.js calls 'unicast' that we still refuse: ::/96 is the deprecated
 * IPv4-compatible form (::10.0.0.1), which some stacks treat as the embedded IPv4.
 */
const EXTRA_FORBIDDEN: Array<{ range: [ipaddr.IPv4 | ipaddr.IPv6, number]; reason: string }> = [
  { range: ipaddr.parseCIDR('::/96'), reason: 'a deprecated IPv4-compatible address' },
];

const RANGE_REASONS: Record<string, string> = {
  unspecified: 'an unspecified address',
  broadcast: 'the broadcast address',
  multicast: 'a multicast address',
  linkLocal: 'a link-local address',
  loopback: 'a loopback address',
  carrierGradeNat: 'a carrier-grade NAT address',
  private: 'a private address',
  reserved: 'a reserved address',
  uniqueLocal: 'a unique-local address',
  deprecatedSiteLocal: 'a site-local address',
  rfc6145: 'an IPv4-translated address',
  rfc6052: 'a NAT64 address',
  '6to4': 'a 6to4 address',
  teredo: 'a Teredo address',
  discard: 'a discard-only address',
  benchmarking: 'a benchmarking address',
};

interface Verdict {
  reason: string;
  /** The ipaddr.js range name, so callers can make narrow exceptions (dev loopback). */
  range: string;
}

/** The WHATWG URL parser's canonical IPv6 text; the input unchanged if it will not parse it (ipaddr.js then judges it as given). */
const canonicalIPv6 = (ip: string): string => {
  try {
    return new URL(`http://[${ip.split('%')[0]}]/`).hostname.slice(1, -1);
  } catch {
    return ip;
  }
};

/** Judges one address; undefined means public unicast, i.e. deliverable. */
function judge(ip: string): Verdict | undefined {
  // Demand standard notation (net.isIP): the string we judge must be exactly what the socket
  // would be given, so lenient forms like "0x7f.1" are not second-guessed here.
  if (isIP(ip) === 0) return { reason: 'not a valid IP address', range: 'invalid' };
  // process() unwraps ::ffff:a.b.c.d so a mapped address is judged as the IPv4 it reaches. ipaddr.js reads
  // the dotted IPv4-compatible spelling (::10.0.0.1) as IPv4-mapped, so IPv6 is first put in the WHATWG URL
  // parser's canonical form (::a00:1), which it reads right (a zone id, fe80::1%eth0, is judged without it).
  const addr = ipaddr.process(isIP(ip) === 6 ? canonicalIPv6(ip) : ip);
  if (METADATA_ADDRESSES.includes(addr.toNormalizedString())) {
    return { reason: 'the cloud metadata address', range: 'metadata' };
  }
  const range = addr.range();
  if (range !== 'unicast') {
    return { reason: RANGE_REASONS[range] ?? `a special-purpose address (${range})`, range };
  }
  const extra = EXTRA_FORBIDDEN.find((entry) => addr.kind() === entry.range[0].kind() && addr.match(entry.range));
  return extra ? { reason: extra.reason, range: 'extra' } : undefined;
}

/**
 * Why an address must not receive webhooks (e.g. 'a private address'), or undefined when it is
 * public unicast. Never throws: garbage input gets a reason too.
 */
export function forbiddenAddressReason(ip: string): string | undefined {
  return judge(ip)?.reason;
}

// ---------------------------------------------------------------------------------------------
// Registration-time check
// ---------------------------------------------------------------------------------------------

const DEV_LOCALHOST_URL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

function invalid(message: string): ValidationError {
  return new ValidationError([{ field: 'url', message }]);
}

function parseUrl(raw: string): URL {
  if (raw.length > MAX_URL_LENGTH) throw invalid(`must be at most ${MAX_URL_LENGTH} characters`);
  try {
    return new URL(raw);
  } catch {
    throw invalid('must be a valid URL');
  }
}

/** Checks that do not depend on where the host points. */
function assertUrlShape(url: URL): void {
  if (url.username !== '' || url.password !== '') throw invalid('must not contain credentials');
  // href keeps an empty "#" that url.hash hides; '#' appears unescaped in href only as the fragment.
  if (url.href.includes('#')) throw invalid('must not contain a #fragment');
}

function isDevLocalhost(url: URL, policy: UrlPolicy): boolean {
  return policy.allowLocalhostHttp && (url.protocol === 'http:' || url.protocol === 'https:') && DEV_LOCALHOST_URL_HOSTS.has(url.hostname);
}

/** url.hostname keeps IPv6 brackets; WHATWG parsing has already turned 0x7f.1 etc. into dotted IPv4. */
function ipLiteral(hostname: string): string | undefined {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return isIP(bare) === 0 ? undefined : bare;
}

/**
 * Node never calls `lookup` for IP-literal hosts, so the delivery path checks them here:
 * returns why the URL's literal host is forbidden, or undefined (also for non-literal hosts).
 */
export function forbiddenLiteralHostReason(url: URL, policy: UrlPolicy): string | undefined {
  const literal = ipLiteral(url.hostname);
  if (!literal || isDevLocalhost(url, policy)) return undefined;
  const reason = forbiddenAddressReason(literal);
  return reason ? `${literal} is ${reason}` : undefined;
}

async function resolveForRegistration(hostname: string, resolve: Resolver): Promise<string[]> {
  let addresses: string[];
  try {
    addresses = await resolve(hostname);
  } catch {
    throw invalid(`host "${hostname}" could not be resolved`);
  }
  if (addresses.length === 0) throw invalid(`host "${hostname}" could not be resolved`);
  return addresses;
}

/**
 * Validates a webhook endpoint URL at registration and returns it parsed. Throws a
 * ValidationError on field 'url' when it is malformed, not https, carries credentials or a
 * fragment, or when its host is (or resolves to any) forbidden address.
 */
export async function assertDeliverableUrl(raw: string, policy: UrlPolicy, resolve: Resolver = defaultResolver): Promise<URL> {
  const url = parseUrl(raw);
  assertUrlShape(url);
  if (isDevLocalhost(url, policy)) return url;
  if (url.protocol !== 'https:') throw invalid('must use https://');

  const literal = ipLiteral(url.hostname);
  if (literal !== undefined) {
    const reason = forbiddenAddressReason(literal);
    if (reason) throw invalid(`host ${literal} is ${reason}`);
    return url;
  }
  // Any bad answer refuses: the client may pick any of them, and mixing is a rebinding tell.
  for (const address of await resolveForRegistration(url.hostname, resolve)) {
    const reason = forbiddenAddressReason(address);
    if (reason) throw invalid(`resolves to ${address}, ${reason}`);
  }
  return url;
}

// ---------------------------------------------------------------------------------------------
// Delivery-time check
// ---------------------------------------------------------------------------------------------

const DEV_LOCALHOST_LOOKUP_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

type LookupCallback = Parameters<LookupFunction>[2];

function wantedFamily(options: LookupOptions): 0 | 4 | 6 {
  const family = options.family;
  if (family === 4 || family === 'IPv4') return 4;
  if (family === 6 || family === 'IPv6') return 6;
  return 0;
}

function notFound(hostname: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
  error.code = 'ENOTFOUND';
  error.syscall = 'getaddrinfo';
  return error;
}

/** First forbidden address in the list, honouring the dev-only loopback exception. */
function firstForbidden(hostname: string, addresses: LookupAddress[], policy: UrlPolicy): ForbiddenAddressError | undefined {
  const loopbackAllowed = policy.allowLocalhostHttp && DEV_LOCALHOST_LOOKUP_HOSTS.has(hostname);
  for (const { address } of addresses) {
    const verdict = judge(address);
    if (verdict && !(loopbackAllowed && verdict.range === 'loopback')) {
      return new ForbiddenAddressError(hostname, address, verdict.reason);
    }
  }
  return undefined;
}

function answer(hostname: string, addresses: string[], options: LookupOptions, policy: UrlPolicy, callback: LookupCallback): void {
  const family = wantedFamily(options);
  const usable = addresses.map((address) => ({ address, family: isIP(address) })).filter((entry) => family === 0 || entry.family === family);
  if (usable.length === 0) return callback(notFound(hostname), options.all ? [] : '');

  // Judge every address handed to the socket; with all: true (happy eyeballs) that is the whole list.
  const handed = options.all ? usable : usable.slice(0, 1);
  const forbidden = firstForbidden(hostname, handed, policy);
  if (forbidden) return callback(forbidden, options.all ? [] : '');

  const first = usable[0]!;
  if (options.all) callback(null, handed);
  else callback(null, first.address, first.family);
}

/**
 * A `lookup` for net.connect / http(s).request that refuses to hand a forbidden address to the
 * socket, failing the request with ForbiddenAddressError before any connection is attempted.
 * Node skips `lookup` for IP-literal hosts; those cannot rebind and were checked at registration.
 */
export function guardedLookup(policy: UrlPolicy, resolve: Resolver = defaultResolver): LookupFunction {
  return (hostname, options, callback) => {
    // Two-argument then(): a throw inside the callback must not re-enter it as a lookup error.
    resolve(hostname).then(
      (addresses) => answer(hostname, addresses, options ?? {}, policy, callback),
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error)), options?.all ? [] : ''),
    );
  };
}
