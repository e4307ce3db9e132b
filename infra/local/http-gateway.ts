import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { PayloadTooLargeError } from '../../shared/domain/errors.js';
import { UndecodablePathError } from '../../shared/http/http-errors.js';
import { errorResponse } from '../../shared/http/middlewares.js';
import { matchRoute } from '../../shared/http/routing.js';
import { defaultRoute, type FunctionName } from '../app-definition.js';
import { lambdaContext, loadHandler } from './lambda-context.js';

type ApiHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2 | string | object>;

/** API Gateway HTTP APIs refuse payloads over 10 MB before any function runs. */
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;
const TEXT_TYPES = /^(text\/|application\/(json|x-www-form-urlencoded|xml|javascript)|[^;]*\+json)/i;

/** Where a request goes: a route of the definition, or the $default route. */
interface Target {
  key: string;
  function: FunctionName;
  pathParameters?: Record<string, string>;
}

/**
 * Serves the definition's routes the way API Gateway HTTP API does: each request becomes a
 * payload v2 event for the same handler module the stack deploys, and a request no route matches
 * goes to the $default route's function, as on AWS. What API Gateway refuses itself (a path it
 * cannot decode, a payload over 10 MB) is answered here in the API's documented error shape.
 */
export function createHttpGateway(options: { onRequest?: (line: string) => void } = {}): Server {
  const handlers = new Map<FunctionName, Promise<ApiHandler>>();
  const handlerFor = (name: FunctionName) => {
    let loaded = handlers.get(name);
    if (!loaded) handlers.set(name, (loaded = loadHandler<ApiHandler>(name)));
    return loaded;
  };

  return createServer((req, res) => {
    const started = performance.now();
    const requestId = randomUUID();
    serve(req, res, requestId, handlerFor)
      // errorResponse logs what is not a DomainError and answers a generic 500, as a handler would.
      .catch((error: unknown) => (res.headersSent ? res.destroy() : reply(res, requestId, error)))
      .finally(() => options.onRequest?.(`${req.method} ${req.url} ${res.statusCode} ${Math.round(performance.now() - started)}ms`));
  });
}

/** A refusal of the gateway's own, through the API's one error mapper. */
function reply(res: ServerResponse, requestId: string, error: unknown) {
  const response = errorResponse(error, requestId);
  send(res, { ...response, headers: { ...response.headers, 'x-request-id': requestId } });
}

async function serve(req: IncomingMessage, res: ServerResponse, requestId: string, handlerFor: (name: FunctionName) => Promise<ApiHandler>) {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const method = req.method ?? 'GET';

  // API Gateway refuses a path it cannot decode before any route or function runs.
  try {
    decodeURIComponent(url.pathname);
  } catch {
    return reply(res, requestId, new UndecodablePathError());
  }
  const { body, size } = await readBody(req);
  if (body === undefined) return reply(res, requestId, new PayloadTooLargeError('body', MAX_PAYLOAD_BYTES, size));

  const match = matchRoute(method, url.pathname);
  const target: Target =
    match.kind === 'route'
      ? {
          key: match.key,
          function: match.route.function,
          pathParameters: Object.fromEntries(Object.entries(match.pathParameters).map(([k, v]) => [k, decodeURIComponent(v)])),
        }
      : { key: defaultRoute.key, function: defaultRoute.function };
  const event = toEventV2(req, url, target, body, requestId);
  const handler = await handlerFor(target.function);
  const result = await handler(event, lambdaContext(target.function, requestId));
  send(res, normalise(result));
}

/** Reads the whole body, keeping at most MAX_PAYLOAD_BYTES of it; size counts every byte sent. */
function readBody(req: IncomingMessage): Promise<{ body?: Buffer; size: number }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_PAYLOAD_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_PAYLOAD_BYTES ? { size } : { body: Buffer.concat(chunks), size }));
    req.on('error', reject);
  });
}

function toEventV2(req: IncomingMessage, url: URL, target: Target, body: Buffer, requestId: string): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (name === 'cookie') cookies.push(...String(value).split(/;\s*/).filter(Boolean));
    else headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = name in query ? `${query[name]},${value}` : value;
  // An event is JSON text, so bytes that are not UTF-8 cannot travel as a string: they go base64
  // (a lossy toString would hand the handler U+FFFD it could not tell from what the client sent).
  const isText = body.length === 0 || (TEXT_TYPES.test(headers['content-type'] ?? '') && isUtf8(body));
  const now = new Date();
  return {
    version: '2.0',
    routeKey: target.key,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    ...(target.pathParameters && Object.keys(target.pathParameters).length > 0 ? { pathParameters: target.pathParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'localhost',
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: target.key,
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
