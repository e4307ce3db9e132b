import { ProcessaClient } from '../../shared/client/index.js';
import { normalizeBaseUrl } from '../../shared/client/transport.js';

/** The URL the client requests for getDraft('d1') when given `baseUrl`. */
async function requestedUrl(baseUrl: string): Promise<string> {
  let url = '';
  const fetch = (async (input: string) => {
    url = input;
    return new Response(JSON.stringify({ id: 'd1', status: 'pending' }), { status: 200, headers: { 'content-type': 'application/json' } });
  }) as unknown as typeof globalThis.fetch;
  await new ProcessaClient({ baseUrl, apiKey: 'prk_test', fetch }).getDraft('d1');
  return url;
}

describe('baseUrl', () => {
  it.each([
    'http://localhost:3000',
    'http://localhost:3000/',
    'http://localhost:3000/v1',
    'http://localhost:3000/v1/',
    'http://localhost:3000//',
    'http://localhost:3000/v1//',
    '  http://localhost:3000/v1  ',
    'HTTP://LOCALHOST:3000/v1',
  ])('accepts %j, the root or the /v1 that npm run dev prints', async (baseUrl) => {
    expect(await requestedUrl(baseUrl)).toBe('http://localhost:3000/v1/drafts/d1');
  });

  it.each([
    ['https://abc123.execute-api.eu-west-1.amazonaws.com', 'https://abc123.execute-api.eu-west-1.amazonaws.com'],
    ['https://abc123.execute-api.eu-west-1.amazonaws.com/', 'https://abc123.execute-api.eu-west-1.amazonaws.com'],
    // A stage or proxy prefix before /v1 is kept.
    ['https://api.example/prod', 'https://api.example/prod'],
    ['https://api.example/prod/v1/', 'https://api.example/prod'],
    ['https://proxy.example/processa/v1', 'https://proxy.example/processa'],
    // Only a final /v1 segment is the API version.
    ['https://api.example/v10', 'https://api.example/v10'],
    ['https://api.example/v1/v1', 'https://api.example/v1'],
  ])('normalizes %j to %j', (input, expected) => {
    expect(normalizeBaseUrl(input)).toBe(expected);
  });

  it.each([
    ['localhost:3000', /absolute URL|http:\/\/ or https:\/\//],
    ['/v1', /absolute URL/],
    ['not a url', /absolute URL/],
    ['ftp://localhost:3000', /http:\/\/ or https:\/\//],
    ['http://localhost:3000/v1?key=1', /query or fragment/],
    ['http://localhost:3000/#top', /query or fragment/],
    ['http://localhost:3000/?', /query or fragment/],
  ])('refuses %j when the client is made, not at the first request', (baseUrl, message) => {
    expect(() => new ProcessaClient({ baseUrl, apiKey: 'prk_test' })).toThrow(TypeError);
    expect(() => new ProcessaClient({ baseUrl, apiKey: 'prk_test' })).toThrow(message);
  });

  it('still requires one', () => {
    expect(() => new ProcessaClient({ baseUrl: '', apiKey: 'prk_test' })).toThrow('baseUrl is required');
  });
});
