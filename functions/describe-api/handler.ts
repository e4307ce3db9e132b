import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { defaultRoute } from '../../shared/http/routes.js';
import { publicBaseUrl } from '../../shared/http/api-event.js';
import { apiHandler, unmatchedRouteHandler } from '../../shared/http/api-handler.js';
import { openApiDocument } from '../../shared/http/openapi.js';
import { json } from '../../shared/http/responses.js';

/** Built once per cold start; only the server URL depends on the request. */
const document = openApiDocument();

const describe = apiHandler(
  'describeApi',
  {},
  {
    'GET /v1/openapi.json': async (event) => json(200, { ...document, servers: [{ url: publicBaseUrl(event) }] }),
  },
);
const unmatched = unmatchedRouteHandler();

/** The API's self-description: its OpenAPI document, and the documented 404/405 for any route it does not have. */
export const handler = (event: APIGatewayProxyEventV2, context: Context) =>
  event.routeKey === defaultRoute.key ? unmatched(event, context) : describe(event, context);
