import http from 'node:http';
import type { LookupAddress, LookupOptions } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { ValidationError } from '../../shared/domain/errors.js';
import {
  ForbiddenAddressError,
  assertDeliverableUrl,
  forbiddenAddressReason,
  guardedLookup,
  urlPolicyFromEnv,
  type Resolver,
  type UrlPolicy,
} from '../../shared/webhooks/address-guard.js';

const prod: UrlPolicy = { allowLocalhostHttp: false };
const dev: UrlPolicy = { allowLocalhostHttp: true };

/** A resolver that records the names it was asked for (no jest.fn: ESM mode has no `jest` global). */
type FakeResolver = Resolver & { calls: string[] };

/** A resolver with a fixed zone; unknown names fail like getaddrinfo does. No real DNS. */
function fakeResolver(zone: Record<string, string[]>): FakeResolver {
  const calls: string[] = [];
  const resolve = async (hostname: string): Promise<string[]> => {
    calls.push(hostname);
    const answers = zone[hostname];
    if (!answers) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return answers;
  };
  return Object.assign(resolve, { calls });
}

/** A resolver that answers every name with the same addresses, as a rebinding DNS server might. */
function fakeResolverReturning(...addresses: string[]): FakeResolver {
  const calls: string[] = [];
  const resolve = async (hostname: string): Promise<string[]> => {
    calls.push(hostname);
    return addresses;
  };
  return Object.assign(resolve, { calls });
}

async function urlProblem(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => {
      throw new Error('expected a ValidationError');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ValidationError);
  const { fields } = (error as ValidationError).details as { fields: Array<{ field: string; message: string }> };
  expect(fields).toHaveLength(1);
  expect(fields[0]!.field).toBe('url');
  return fields[0]!.message;
}

interface LookupResult {
  err: NodeJS.ErrnoException | null;
  address: string | LookupAddress[];
  family?: number;
}

function callLookup(lookup: LookupFunction, hostname: string, options: LookupOptions): Promise<LookupResult> {
  return new Promise((resolve) => lookup(hostname, options, (err, address, family) => resolve({ err, address, family })));
}

describe('urlPolicyFromEnv', () => {
  it.each([
    ['true', true],
    ['TRUE', false],
    ['1', false],
    ['yes', false],
    ['', false],
    [undefined, false],
  ])('PROCESSA_ALLOW_LOCALHOST_WEBHOOKS=%p → %p', (value, expected) => {
    const env = value === undefined ? {} : { PROCESSA_ALLOW_LOCALHOST_WEBHOOKS: value };
    expect(urlPolicyFromEnv(env)).toEqual({ allowLocalhostHttp: expected });
  });

  it('reads process.env by default', () => {
    const before = process.env.PROCESSA_ALLOW_LOCALHOST_WEBHOOKS;
    try {
      process.env.PROCESSA_ALLOW_LOCALHOST_WEBHOOKS = 'true';
      expect(urlPolicyFromEnv()).toEqual({ allowLocalhostHttp: true });
      delete process.env.PROCESSA_ALLOW_LOCALHOST_WEBHOOKS;
      expect(urlPolicyFromEnv()).toEqual({ allowLocalhostHttp: false });
    } finally {
      if (before === undefined) delete process.env.PROCESSA_ALLOW_LOCALHOST_WEBHOOKS;
      else process.env.PROCESSA_ALLOW_LOCALHOST_WEBHOOKS = before;
    }
  });
});

describe('forbiddenAddressReason', () => {
  it.each([
    ['10.0.0.1', 'a private address'],
    ['10.255.255.255', 'a private address'],
    ['172.16.0.1', 'a private address'],
    ['172.31.255.254', 'a private address'],
    ['192.168.1.1', 'a private address'],
    ['127.0.0.1', 'a loopback address'],
    ['127.8.9.10', 'a loopback address'],
    ['0.0.0.0', 'an unspecified address'],
    ['169.254.0.1', 'a link-local address'],
    ['169.254.169.254', 'the cloud metadata address'],
    ['100.64.0.1', 'a carrier-grade NAT address'],
    ['100.127.255.254', 'a carrier-grade NAT address'],
    ['224.0.0.1', 'a multicast address'],
    ['239.255.255.250', 'a multicast address'],
    ['255.255.255.255', 'the broadcast address'],
    ['240.0.0.1', 'a reserved address'],
    ['192.0.2.1', 'a reserved address'],
    ['::1', 'a loopback address'],
    ['::', 'an unspecified address'],
    ['fe80::1', 'a link-local address'],
    ['fe80::1%eth0', 'a link-local address'],
    ['febf::1', 'a link-local address'],
    ['fc00::1', 'a unique-local address'],
    ['fd12:3456::1', 'a unique-local address'],
    ['fd00:ec2::254', 'the cloud metadata address'],
    ['ff02::1', 'a multicast address'],
    ['ff00::', 'a multicast address'],
    ['::ffff:127.0.0.1', 'a loopback address'],
    ['::ffff:10.0.0.1', 'a private address'],
    ['::ffff:a00:1', 'a private address'],
    ['::ffff:169.254.169.254', 'the cloud metadata address'],
    ['::ffff:0:a00:1', 'an IPv4-translated address'],
    ['::a00:1', 'a deprecated IPv4-compatible address'],
    ['64:ff9b::a00:1', 'a NAT64 address'],
    ['2002:a00:1::1', 'a 6to4 address'],
    ['2001::1', 'a Teredo address'],
    ['2001:db8::1', 'a reserved address'],
  ])('refuses %s as %s', (ip, reason) => {
    expect(forbiddenAddressReason(ip)).toBe(reason);
  });

  // Edges of each range and spellings of one address, so a range ipaddr.js misjudges or a spelling
  // it misreads shows here.
  it.each([
    ['0.1.2.3', 'an unspecified address'],
    ['0.255.255.255', 'an unspecified address'],
    ['100.64.0.0', 'a carrier-grade NAT address'],
    ['172.16.0.0', 'a private address'],
    ['192.168.255.255', 'a private address'],
    ['198.19.255.255', 'a reserved address'],
    ['192.0.0.8', 'a reserved address'],
    ['192.88.99.1', 'a reserved address'],
    ['192.31.196.1', 'a special-purpose address (as112)'],
    ['192.52.193.1', 'a special-purpose address (amt)'],
    ['169.254.169.253', 'a link-local address'],
    ['::ffff:7f00:1', 'a loopback address'],
    ['::FFFF:127.0.0.1', 'a loopback address'],
    ['0:0:0:0:0:ffff:7f00:1', 'a loopback address'],
    ['0000:0000:0000:0000:0000:ffff:127.0.0.1', 'a loopback address'],
    ['::ffff:0.0.0.0', 'an unspecified address'],
    ['::ffff:100.64.0.1', 'a carrier-grade NAT address'],
    ['::ffff:a9fe:a9fe', 'the cloud metadata address'],
    ['0:0:0:0:0:0:0:0', 'an unspecified address'],
    ['0::1', 'a loopback address'],
    ['fc00::', 'a unique-local address'],
    ['fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'a unique-local address'],
    ['FD00:EC2::254', 'the cloud metadata address'],
    ['fd00:ec2::253', 'a unique-local address'],
    ['fe80::', 'a link-local address'],
    ['febf:ffff::1', 'a link-local address'],
    ['fec0::1', 'a site-local address'],
    ['100::1', 'a discard-only address'],
    ['64:ff9b::10.0.0.1', 'a NAT64 address'],
    ['64:ff9b::7f00:1', 'a NAT64 address'],
    ['64:ff9b:1::1', 'a NAT64 address'],
    ['2001:db8:ffff::1', 'a reserved address'],
    ['2001:1ff::1', 'a reserved address'],
    ['3fff::1', 'a reserved address'],
    ['2001:2::1', 'a benchmarking address'],
    ['5f00::1', 'a special-purpose address (segmentRouting)'],
    // The IPv4-compatible form, in either spelling (ipaddr.js reads the dotted one as IPv4-mapped; the guard canonicalizes it first).
    ['::10.0.0.1', 'a deprecated IPv4-compatible address'],
    ['::8.8.8.8', 'a deprecated IPv4-compatible address'],
    ['::808:808', 'a deprecated IPv4-compatible address'],
  ])('refuses %s as %s (range edges and spellings)', (ip, reason) => {
    expect(forbiddenAddressReason(ip)).toBe(reason);
  });

  it.each([
    '100.63.255.255',
    '100.128.0.0',
    '172.15.255.255',
    '172.32.0.0',
    '192.169.0.0',
    '169.253.255.255',
    '1.0.0.0',
    '223.255.255.255',
    '64:ff9b:2::1',
    '2001:200::1',
    'fbff::1',
    '2003::1',
    '0:0:0:0:0:ffff:808:808',
    '::FFFF:8.8.8.8',
  ])('allows public unicast just outside a range: %s', (ip) => {
    expect(forbiddenAddressReason(ip)).toBeUndefined();
  });

  it.each(['8.8.8.8', '1.1.1.1', '93.184.216.34', '2606:4700:4700::1111', '2a00:1450:4001:82a::200e', '::ffff:8.8.8.8'])('allows public unicast %s', (ip) => {
    expect(forbiddenAddressReason(ip)).toBeUndefined();
  });

  it.each(['', 'example.com', '10.0.0', '0x7f.1', '2130706433', '1.2.3.4.5', '::g', '[::1]', ' 8.8.8.8'])(
    'gives a reason rather than throwing for non-standard input %p',
    (input) => {
      expect(forbiddenAddressReason(input)).toBe('not a valid IP address');
    },
  );
});

describe('assertDeliverableUrl', () => {
  const zone = {
    'hooks.example.com': ['93.184.216.34', '2606:4700:4700::1111'],
    'mixed.example.com': ['93.184.216.34', '10.0.0.5'],
    'internal.example.com': ['10.0.0.5'],
    'metadata.example.com': ['169.254.169.254'],
    'v6.example.com': ['fd00:ec2::254'],
    'empty.example.com': [],
    localhost: ['127.0.0.1', '::1'],
  };

  it('accepts https to a public host and returns the parsed URL', async () => {
    const resolve = fakeResolver(zone);
    const url = await assertDeliverableUrl('https://hooks.example.com/processa?x=1', prod, resolve);
    expect(url).toBeInstanceOf(URL);
    expect(url.href).toBe('https://hooks.example.com/processa?x=1');
    expect(resolve.calls).toEqual(['hooks.example.com']);
  });

  it('accepts https to a public IP literal without DNS', async () => {
    const resolve = fakeResolver(zone);
    await expect(assertDeliverableUrl('https://93.184.216.34:8443/hook', prod, resolve)).resolves.toBeInstanceOf(URL);
    await expect(assertDeliverableUrl('https://[2606:4700:4700::1111]/hook', prod, resolve)).resolves.toBeInstanceOf(URL);
    expect(resolve.calls).toEqual([]);
  });

  it('refuses http', async () => {
    expect(await urlProblem(assertDeliverableUrl('http://hooks.example.com/', prod, fakeResolver(zone)))).toBe('must use https://');
  });

  it.each(['ftp://hooks.example.com/', 'file:///etc/passwd', 'javascript:alert(1)', 'data:text/plain,hi'])('refuses scheme %s', async (raw) => {
    expect(await urlProblem(assertDeliverableUrl(raw, prod, fakeResolver(zone)))).toBe('must use https://');
  });

  it.each(['not a url', '', 'hooks.example.com/path', 'https://'])('refuses unparseable %p', async (raw) => {
    expect(await urlProblem(assertDeliverableUrl(raw, prod, fakeResolver(zone)))).toBe('must be a valid URL');
  });

  it.each(['https://user:pass@hooks.example.com/', 'https://user@hooks.example.com/', 'https://:pass@hooks.example.com/'])(
    'refuses credentials in %s',
    async (raw) => {
      expect(await urlProblem(assertDeliverableUrl(raw, prod, fakeResolver(zone)))).toBe('must not contain credentials');
    },
  );

  it.each(['https://hooks.example.com/#section', 'https://hooks.example.com/#'])('refuses a fragment in %s', async (raw) => {
    expect(await urlProblem(assertDeliverableUrl(raw, prod, fakeResolver(zone)))).toBe('must not contain a #fragment');
  });

  it('refuses URLs longer than 2048 characters', async () => {
    const base = 'https://hooks.example.com/';
    const fits = base + 'a'.repeat(2048 - base.length);
    await expect(assertDeliverableUrl(fits, prod, fakeResolver(zone))).resolves.toBeInstanceOf(URL);
    expect(await urlProblem(assertDeliverableUrl(fits + 'a', prod, fakeResolver(zone)))).toBe('must be at most 2048 characters');
  });

  it('refuses a host whose answers mix public and private addresses', async () => {
    expect(await urlProblem(assertDeliverableUrl('https://mixed.example.com/', prod, fakeResolver(zone)))).toBe('resolves to 10.0.0.5, a private address');
  });

  it.each([
    ['internal.example.com', 'resolves to 10.0.0.5, a private address'],
    ['metadata.example.com', 'resolves to 169.254.169.254, the cloud metadata address'],
    ['v6.example.com', 'resolves to fd00:ec2::254, the cloud metadata address'],
    ['localhost', 'resolves to 127.0.0.1, a loopback address'],
  ])('refuses %s: %s', async (host, message) => {
    expect(await urlProblem(assertDeliverableUrl(`https://${host}/`, prod, fakeResolver(zone)))).toBe(message);
  });

  it.each(['nowhere.example.com', 'empty.example.com'])('refuses unresolvable host %s', async (host) => {
    expect(await urlProblem(assertDeliverableUrl(`https://${host}/`, prod, fakeResolver(zone)))).toBe(`host "${host}" could not be resolved`);
  });

  it.each([
    ['https://10.0.0.1/', 'host 10.0.0.1 is a private address'],
    ['https://127.0.0.1/', 'host 127.0.0.1 is a loopback address'],
    ['https://2130706433/', 'host 127.0.0.1 is a loopback address'],
    ['https://0x7f.0.0.1/', 'host 127.0.0.1 is a loopback address'],
    ['https://0x7f.1/', 'host 127.0.0.1 is a loopback address'],
    ['https://0177.0.0.1/', 'host 127.0.0.1 is a loopback address'],
    ['https://127.1/', 'host 127.0.0.1 is a loopback address'],
    ['https://169.254.169.254/latest/meta-data/', 'host 169.254.169.254 is the cloud metadata address'],
    ['https://[::1]/', 'host ::1 is a loopback address'],
    ['https://[::]/', 'host :: is an unspecified address'],
    ['https://[::ffff:10.0.0.1]/', 'host ::ffff:a00:1 is a private address'],
    ['https://[fd00:ec2::254]/', 'host fd00:ec2::254 is the cloud metadata address'],
    ['https://[::ffff:127.0.0.1]/', 'host ::ffff:7f00:1 is a loopback address'],
    ['https://[0:0:0:0:0:ffff:169.254.169.254]/', 'host ::ffff:a9fe:a9fe is the cloud metadata address'],
    ['https://[64:ff9b::10.0.0.1]/', 'host 64:ff9b::a00:1 is a NAT64 address'],
    ['https://[fe80::1]/', 'host fe80::1 is a link-local address'],
    ['https://[2001:db8::1]/', 'host 2001:db8::1 is a reserved address'],
    ['https://100.64.0.1/', 'host 100.64.0.1 is a carrier-grade NAT address'],
    ['https://0.0.0.0/', 'host 0.0.0.0 is an unspecified address'],
  ])('checks IP literal %s directly, without DNS', async (raw, message) => {
    const resolve = fakeResolver(zone);
    expect(await urlProblem(assertDeliverableUrl(raw, prod, resolve))).toBe(message);
    expect(resolve.calls).toEqual([]);
  });

  describe('with the local dev policy', () => {
    it.each(['http://localhost:4000/hook', 'https://localhost/hook', 'http://127.0.0.1:4000/hook', 'http://[::1]:4000/hook'])(
      'allows %s without any address check',
      async (raw) => {
        const resolve = fakeResolver({});
        await expect(assertDeliverableUrl(raw, dev, resolve)).resolves.toBeInstanceOf(URL);
        expect(resolve.calls).toEqual([]);
      },
    );

    it('still refuses http to other hosts', async () => {
      expect(await urlProblem(assertDeliverableUrl('http://example.com/', dev, fakeResolver(zone)))).toBe('must use https://');
      expect(await urlProblem(assertDeliverableUrl('http://127.0.0.2/', dev, fakeResolver(zone)))).toBe('must use https://');
    });

    it('still refuses private addresses over https', async () => {
      expect(await urlProblem(assertDeliverableUrl('https://10.0.0.1/', dev, fakeResolver(zone)))).toBe('host 10.0.0.1 is a private address');
    });

    it('still refuses credentials on localhost', async () => {
      expect(await urlProblem(assertDeliverableUrl('http://u:p@localhost/', dev, fakeResolver(zone)))).toBe('must not contain credentials');
    });
  });

  it('refuses localhost http without the dev policy', async () => {
    expect(await urlProblem(assertDeliverableUrl('http://localhost:4000/hook', prod, fakeResolver(zone)))).toBe('must use https://');
  });
});

describe('guardedLookup', () => {
  it('fails a real http.request to a rebound name before any socket connects', async () => {
    const resolve = fakeResolverReturning('127.0.0.1');
    let connected = false;
    const error = await new Promise<NodeJS.ErrnoException>((resolvePromise, reject) => {
      const req = http.request('http://rebind.test:1/', { lookup: guardedLookup(prod, resolve) }, () => reject(new Error('got a response')));
      req.on('socket', (socket) => socket.on('connect', () => (connected = true)));
      req.on('error', resolvePromise);
      req.end();
    });
    expect(error).toBeInstanceOf(ForbiddenAddressError);
    expect(error.code).toBe('ERR_FORBIDDEN_ADDRESS');
    expect(error.message).toContain('127.0.0.1, a loopback address');
    expect(connected).toBe(false);
    expect(resolve.calls).toEqual(['rebind.test']);
  });

  describe('called with all: false', () => {
    it('returns the first public address and its family', async () => {
      const lookup = guardedLookup(prod, fakeResolverReturning('93.184.216.34', '2606:4700:4700::1111'));
      expect(await callLookup(lookup, 'hooks.example.com', { all: false })).toEqual({ err: null, address: '93.184.216.34', family: 4 });
    });

    it('honours the requested family', async () => {
      const lookup = guardedLookup(prod, fakeResolverReturning('93.184.216.34', '2606:4700:4700::1111'));
      expect(await callLookup(lookup, 'hooks.example.com', { family: 6 })).toEqual({ err: null, address: '2606:4700:4700::1111', family: 6 });
    });

    it('refuses a forbidden chosen address', async () => {
      const lookup = guardedLookup(prod, fakeResolverReturning('169.254.169.254'));
      const { err } = await callLookup(lookup, 'rebind.test', {});
      expect(err).toBeInstanceOf(ForbiddenAddressError);
      expect(err).toMatchObject({ code: 'ERR_FORBIDDEN_ADDRESS', hostname: 'rebind.test', address: '169.254.169.254', reason: 'the cloud metadata address' });
      expect(err!.message).toBe('Refusing to connect to rebind.test: it resolves to 169.254.169.254, the cloud metadata address');
    });

    it('judges IPv4-mapped answers as the embedded IPv4', async () => {
      const { err } = await callLookup(guardedLookup(prod, fakeResolverReturning('::ffff:10.0.0.1')), 'rebind.test', {});
      expect(err).toMatchObject({ code: 'ERR_FORBIDDEN_ADDRESS', reason: 'a private address' });
    });
  });

  describe('called with all: true', () => {
    it('returns every address when all are public', async () => {
      const lookup = guardedLookup(prod, fakeResolverReturning('93.184.216.34', '2606:4700:4700::1111'));
      expect(await callLookup(lookup, 'hooks.example.com', { all: true })).toEqual({
        err: null,
        address: [
          { address: '93.184.216.34', family: 4 },
          { address: '2606:4700:4700::1111', family: 6 },
        ],
        family: undefined,
      });
    });

    it('refuses when any address in the answer is forbidden', async () => {
      const lookup = guardedLookup(prod, fakeResolverReturning('93.184.216.34', 'fe80::1'));
      const { err, address } = await callLookup(lookup, 'rebind.test', { all: true });
      expect(err).toMatchObject({ code: 'ERR_FORBIDDEN_ADDRESS', address: 'fe80::1', reason: 'a link-local address' });
      expect(address).toEqual([]);
    });
  });

  it('passes resolver failures through', async () => {
    const { err } = await callLookup(guardedLookup(prod, fakeResolver({})), 'nowhere.test', { all: true });
    expect(err).toMatchObject({ code: 'ENOTFOUND' });
  });

  it('reports ENOTFOUND when no address of the requested family exists', async () => {
    const { err } = await callLookup(guardedLookup(prod, fakeResolverReturning('93.184.216.34')), 'v4only.test', { family: 6 });
    expect(err).toMatchObject({ code: 'ENOTFOUND' });
  });

  describe('with the local dev policy', () => {
    it.each(['localhost', '127.0.0.1', '::1'])('allows loopback for %s', async (hostname) => {
      const lookup = guardedLookup(dev, fakeResolverReturning('127.0.0.1', '::1'));
      const { err, address } = await callLookup(lookup, hostname, { all: true });
      expect(err).toBeNull();
      expect(address).toEqual([
        { address: '127.0.0.1', family: 4 },
        { address: '::1', family: 6 },
      ]);
    });

    it('still refuses loopback for other names', async () => {
      const { err } = await callLookup(guardedLookup(dev, fakeResolverReturning('127.0.0.1')), 'rebind.test', {});
      expect(err).toMatchObject({ code: 'ERR_FORBIDDEN_ADDRESS', reason: 'a loopback address' });
    });

    it('still refuses non-loopback forbidden addresses for localhost', async () => {
      const { err } = await callLookup(guardedLookup(dev, fakeResolverReturning('10.0.0.1')), 'localhost', {});
      expect(err).toMatchObject({ code: 'ERR_FORBIDDEN_ADDRESS', reason: 'a private address' });
    });
  });

  it('refuses localhost loopback without the dev policy', async () => {
    const { err } = await callLookup(guardedLookup(prod, fakeResolverReturning('127.0.0.1')), 'localhost', {});
    expect(err).toMatchObject({ code: 'ERR_FORBIDDEN_ADDRESS' });
  });
});
