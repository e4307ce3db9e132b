import { publicBaseUrl } from '../../shared/http/api-event.js';
import { apiHandler } from '../../shared/http/api-handler.js';
import { openApiDocument } from '../../shared/http/openapi.js';
import { json } from '../../shared/http/responses.js';

/** Built once per cold start; only the server URL depends on the request. */
const document = openApiDocument();

export const handler = apiHandler({}, {
  'GET /v1/openapi.json': async (event) => json(200, { ...document, servers: [{ url: publicBaseUrl(event) }] }),
});
