// A namespace import lets esbuild tree-shake zod (a named `z` import pulls in all of it).
import * as z from 'zod';
import { routeKey, routes, type RouteDefinition } from '../../infra/app-definition.js';
import { operations, type Operation } from './api-schemas.js';

type JsonSchema = Record<string, unknown>;

/** JSON Schema for one zod schema. Requests are described by what they accept (input side). */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const converted = z.toJSONSchema(schema, {
    io,
    target: 'draft-2020-12',
    // Custom validators (a JSON object of bounded depth and size) are objects on the wire.
    unrepresentable: 'any',
    override: (ctx) => {
      if ((ctx.zodSchema as { _zod: { def: { type: string } } })._zod.def.type === 'custom') ctx.jsonSchema.type = 'object';
    },
  }) as JsonSchema;
  delete converted.$schema;
  return converted;
}

function queryParameters(schema: z.ZodType) {
  const converted = jsonSchema(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(converted.properties ?? {}).map(([name, property]) => ({
    name,
    in: 'query',
    required: converted.required?.includes(name) ?? false,
    schema: property,
  }));
}

/** The public API routes: those authenticated by Bearer key or open (the pages are not API). */
export const apiRoutes = (routes as readonly RouteDefinition[]).filter((r) => r.auth !== 'session');

/**
 * OpenAPI 3.1, generated from the route definition and the zod schemas the handlers validate
 * with, so the document cannot drift from the code.
 */
export function openApiDocument(serverUrl?: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of apiRoutes) {
    const key = routeKey(route);
    const operation = (operations as Record<string, Operation>)[key];
    if (!operation) throw new Error(`No OpenAPI operation is described for ${key}`);
    const pathParameters = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const open = route.auth === 'none';
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = {
      operationId: key.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_|_$/g, ''),
      summary: operation.summary,
      ...(open ? { security: [] } : { 'x-roles': route.roles }),
      parameters: [
        ...pathParameters,
        ...(operation.query ? queryParameters(operation.query) : []),
        ...(key === 'POST /v1/drafts' ? [{ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 255 } }] : []),
      ],
      ...(operation.body ? { requestBody: { required: route.method !== 'POST' || key === 'POST /v1/drafts' || key.endsWith('/v1/keys') || key === 'POST /v1/webhooks', content: { 'application/json': { schema: jsonSchema(operation.body, 'input') } } } } : {}),
      responses: Object.fromEntries(
        Object.entries(operation.responses).map(([status, response]) => [
          status,
          { description: response.description, ...(response.schema ? { content: { 'application/json': { schema: jsonSchema(response.schema, 'output') } } } : {}) },
        ]),
      ),
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Processa API', version: '1.0.0', description: 'A human approval gate for AI agents: submit drafts, decide them, receive signed webhooks.' },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    security: [{ bearerAuth: [] }],
    components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API key: prk_…' } } },
    paths,
  };
}
