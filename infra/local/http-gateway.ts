import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { routeKey, routes, type FunctionName } from '../app-definition.js';
import { lambdaContext, loadHandler } from './lambda-context.js';

type ApiHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2 | string | object>;

/** API Gateway HTTP APIs refuse payloads over 10 MB before any function runs. */
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;
const TEXT_TYPES = /^(text\/|application\/(json|x-www-form-urlencoded|xml|javascript)|[^;]*\+json)/i;

interface CompiledRoute {
  key: string;
  method: string;
  pattern: RegExp;
  params: string[];
  function: FunctionName;
}

function compile(path: string): { pattern: RegExp; params: string[] } {
  const params: string[] = [];
  const source = path
    .split('/')
    .map((segment) => {
      const match = segment.match(/^\{(\w+)\}$/);
      if (!match) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      params.push(match[1]!);
      return '([^/]+)';
    })
    .join('/');
  return { pattern: new RegExp(`^${source}$`), params };
}

/**
 * Serves the definition's routes the way API Gateway HTTP API does: each request becomes a
 * payload v2 event for the same handler module the stack deploys.
 */
export function createHttpGateway(options: { onRequest?: (line: string) => void } = {}): Server {
  const compiled: CompiledRoute[] = routes.map((route) => ({
    key: routeKey(route),
    method: route.method,
    function: route.function,
    ...compile(route.path),
  }));
  const handlers = new Map<FunctionName, Promise<ApiHandler>>();
  const handlerFor = (name: FunctionName) => {
    let loaded = handlers.get(name);
    if (!loaded) handlers.set(name, (loaded = loadHandler<ApiHandler>(name)));
    return loaded;
  };

  return createServer((req, res) => {
    const started = performance.now();
    serve(req, res, compiled, handlerFor)
      .catch((error: unknown) => {
        console.error('local gateway error', error);
        send(res, { statusCode: 500, body: JSON.stringify({ message: 'Internal Server Error' }), headers: { 'content-type': 'application/json' } });
      })
      .finally(() => options.onRequest?.(`${req.method} ${req.url} ${res.statusCode} ${Math.round(performance.now() - started)}ms`));
  });
}

async function serve(req: IncomingMessage, res: ServerResponse, compiled: CompiledRoute[], handlerFor: (name: FunctionName) => Promise<ApiHandler>) {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const method = req.method ?? 'GET';
  let route: CompiledRoute | undefined;
  let match: RegExpMatchArray | null = null;
  for (const candidate of compiled) {
    if (candidate.method !== method) continue;
    match = url.pathname.match(candidate.pattern);
    if (match) {
      route = candidate;
      break;
    }
  }
  if (!route || !match) return send(res, { statusCode: 404, body: JSON.stringify({ message: 'Not Found' }), headers: { 'content-type': 'application/json' } });

  // API Gateway refuses a path it cannot decode before any function runs.
  try {
    match.slice(1).forEach((segment) => decodeURIComponent(segment));
  } catch {
    return send(res, { statusCode: 400, body: JSON.stringify({ message: 'Bad Request' }), headers: { 'content-type': 'application/json' } });
  }
  const body = await readBody(req);
  if (body === undefined) return send(res, { statusCode: 413, body: JSON.stringify({ message: 'Request Entity Too Large' }), headers: { 'content-type': 'application/json' } });

  const event = toEventV2(req, url, route, match, body);
  const handler = await handlerFor(route.function);
  const result = await handler(event, lambdaContext(route.function, event.requestContext.requestId));
  send(res, normalise(result));
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_PAYLOAD_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function toEventV2(req: IncomingMessage, url: URL, route: CompiledRoute, match: RegExpMatchArray, body: Buffer): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (name === 'cookie') cookies.push(...String(value).split(/;\s*/).filter(Boolean));
    else headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = name in query ? `${query[name]},${value}` : value;
  const pathParameters = Object.fromEntries(route.params.map((name, i) => [name, decodeURIComponent(match[i + 1]!)]));
  const isText = body.length === 0 || TEXT_TYPES.test(headers['content-type'] ?? '');
  const now = new Date();
  const requestId = randomUUID();
  return {
    version: '2.0',
    routeKey: route.key,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    ...(route.params.length > 0 ? { pathParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'localhost',
      http: { method: req.method ?? 'GET', path: url.pathname, protocol: `HTTP/${req.httpVersion}`, sourceIp: req.socket.remoteAddress ?? '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
      requestId,
      routeKey: route.key,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0 ? { body: isText ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: body.length > 0 && !isText,
  };
}

/** Lambda proxy results as API Gateway v2 reads them: a bare object or string means a 200 JSON. */
function normalise(result: APIGatewayProxyStructuredResultV2 | string | object): APIGatewayProxyStructuredResultV2 {
  if (typeof result === 'object' && result !== null && 'statusCode' in result) return result as APIGatewayProxyStructuredResultV2;
  return { statusCode: 200, body: typeof result === 'string' ? result : JSON.stringify(result), headers: { 'content-type': 'application/json' } };
}

function send(res: ServerResponse, result: APIGatewayProxyStructuredResultV2) {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  if (result.cookies?.length) headers['set-cookie'] = result.cookies;
  const body = result.body === undefined ? Buffer.alloc(0) : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
  res.writeHead(result.statusCode ?? 200, headers);
  res.end(body);
}
