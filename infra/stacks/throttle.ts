import { routeKey, routes } from '../app-definition.js';

/**
 * The HTTP API stage's throttle, set by context (infra/stacks/context.ts):
 * - `apiRateLimit` / `apiBurstLimit`: every route's default (the stage's DefaultRouteSettings);
 * - `<group>RateLimit` / `<group>BurstLimit`: one of the route groups below, apart from the others
 *   (RouteSettings), e.g. to open agents' creates wider than sign-in.
 * Unset, everything is as it always was: 50 requests/s with bursts of 100 for the whole stage and no
 * route set apart. API Gateway applies these per stage and route, within the account's own Regional quota
 * (10,000 requests/s, burst 5,000, shared by every API in the account and Region), which caps them.
 * The local runtime (`npm run dev`) does not throttle.
 */
export interface ThrottleLimits {
  /** Steady-state requests per second (API Gateway takes a fractional rate). */
  rateLimit: number;
  /** Requests accepted at once above the rate (the token bucket's size). */
  burstLimit: number;
}

/** Today's stage throttle: a gate, not a data plane. */
export const DEFAULT_API_THROTTLE: ThrottleLimits = { rateLimit: 50, burstLimit: 100 };

/** The routes whose throttle can be set apart, by group (the group's name prefixes its context keys). */
export const ROUTE_THROTTLE_GROUPS = {
  /** Agents submitting drafts. */
  createDraft: ['POST /v1/drafts'],
  /** Reviewers deciding through the API. */
  decideDraft: ['POST /v1/drafts/{id}/approve', 'POST /v1/drafts/{id}/reject'],
  /** The pages' sign-in form: unauthenticated, keys are guessed here. */
  signIn: ['POST /review/login'],
  /** Deciding on the hosted review pages. */
  reviewDecisions: ['POST /review/{id}/approve', 'POST /review/{id}/reject'],
  /** Slack's interactivity requests (Approve, Reject, the reason dialog). */
  slackInteractions: ['POST /v1/integrations/slack/interactions'],
  /** A notification email's confirmation form. */
  emailDecisions: ['POST /email-decisions/{token}'],
} as const satisfies Record<string, readonly string[]>;
export type ThrottleGroup = keyof typeof ROUTE_THROTTLE_GROUPS;
export const THROTTLE_GROUPS = Object.keys(ROUTE_THROTTLE_GROUPS) as ThrottleGroup[];

/** The throttle as the context gives it: numbers still unchecked (NaN for text that is not one). */
export interface ApiThrottleInput {
  rateLimit?: number;
  burstLimit?: number;
  routes?: Partial<Record<ThrottleGroup, { rateLimit?: number; burstLimit?: number }>>;
}

export interface ApiThrottle {
  stage: ThrottleLimits;
  /** By route key (`POST /v1/drafts`), only the routes set apart. */
  routes: Record<string, ThrottleLimits>;
}

/** Context keys, so errors and README name exactly what to pass to `cdk deploy -c`. */
export const throttleContextKeys = (group?: ThrottleGroup) =>
  group ? { rateLimit: `${group}RateLimit`, burstLimit: `${group}BurstLimit` } : { rateLimit: 'apiRateLimit', burstLimit: 'apiBurstLimit' };

function checked(key: string, value: number, kind: 'rate' | 'burst'): number {
  if (kind === 'rate' && !(Number.isFinite(value) && value > 0))
    throw new Error(`${key} must be a positive number of requests per second, got ${String(value)}`);
  if (kind === 'burst' && !(Number.isInteger(value) && value >= 1))
    throw new Error(`${key} must be a whole number of requests, at least 1, got ${String(value)}`);
  return value;
}

/**
 * The stage throttle the context asks for; throws naming the context key of a bad value. A group
 * given only one of its two values takes the other from the stage's.
 */
export function resolveApiThrottle(input: ApiThrottleInput = {}): ApiThrottle {
  const stageKeys = throttleContextKeys();
  const stage: ThrottleLimits = {
    rateLimit: checked(stageKeys.rateLimit, input.rateLimit ?? DEFAULT_API_THROTTLE.rateLimit, 'rate'),
    burstLimit: checked(stageKeys.burstLimit, input.burstLimit ?? DEFAULT_API_THROTTLE.burstLimit, 'burst'),
  };
  const known = new Set(routes.map(routeKey));
  const byRoute: Record<string, ThrottleLimits> = {};
  for (const group of THROTTLE_GROUPS) {
    const given = input.routes?.[group];
    if (given?.rateLimit === undefined && given?.burstLimit === undefined) continue;
    const keys = throttleContextKeys(group);
    const limits: ThrottleLimits = {
      rateLimit: given.rateLimit === undefined ? stage.rateLimit : checked(keys.rateLimit, given.rateLimit, 'rate'),
      burstLimit: given.burstLimit === undefined ? stage.burstLimit : checked(keys.burstLimit, given.burstLimit, 'burst'),
    };
    for (const key of ROUTE_THROTTLE_GROUPS[group]) {
      // A renamed route must not leave a setting that silently applies to nothing.
      if (!known.has(key)) throw new Error(`Throttle group ${group} names ${key}, which is not a route`);
      byRoute[key] = limits;
    }
  }
  return { stage, routes: byRoute };
}
