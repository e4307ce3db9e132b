import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { Actor } from '../domain/draft.js';
import { publicBaseUrlFromEnv } from '../config.js';

/** An HTTP API (payload v2) event after the shared middlewares ran. */
export interface ApiEvent extends APIGatewayProxyEventV2 {
  /** Set by the authentication middleware. */
  actor?: Actor;
  /** Parsed JSON body: {} when a POST has no body at all. */
  jsonBody?: unknown;
}

export interface AuthorizedEvent extends ApiEvent {
  actor: Actor;
}

export const header = (event: APIGatewayProxyEventV2, name: string): string | undefined => event.headers?.[name.toLowerCase()];

/** Where clients reach the API and pages, for links such as reviewUrl. */
export function publicBaseUrl(event: APIGatewayProxyEventV2): string {
  const configured = publicBaseUrlFromEnv();
  if (configured) return configured.replace(/\/+$/, '');
  const stage = event.requestContext.stage;
  return `https://${event.requestContext.domainName}${stage && stage !== '$default' ? `/${stage}` : ''}`;
}

export function pathParameter(event: APIGatewayProxyEventV2, name: string): string {
  const value = event.pathParameters?.[name];
  if (value === undefined) throw new Error(`Route has no {${name}} path parameter`);
  return value;
}
