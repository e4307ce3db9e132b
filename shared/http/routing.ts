import { routeKey, routes, type RouteDefinition } from './routes.js';

/**
 * Route matching as API Gateway HTTP APIs do it, over the definition's routes: literal segments
 * beat {parameters}, a parameter spans one segment. The local gateway routes with it, and the
 * $default route's handler uses it to tell an unknown path (404) from a wrong method (405).
 */
interface CompiledRoute {
  route: RouteDefinition;
  key: string;
  pattern: RegExp;
  params: string[];
}

function compile(route: RouteDefinition): CompiledRoute {
  const params: string[] = [];
  const source = route.path
    .split('/')
    .map((segment) => {
      const match = segment.match(/^\{(\w+)\}$/);
      if (!match) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      params.push(match[1]!);
      return '([^/]+)';
    })
    .join('/');
  return { route, key: routeKey(route), pattern: new RegExp(`^${source}$`), params };
}

// Fewest parameters first, so that a literal path wins over a parameter in the same place.
const compiled = (routes as readonly RouteDefinition[]).map(compile).sort((a, b) => a.params.length - b.params.length);

export type RouteMatch =
  /** pathParameters are the raw (still percent-encoded) segments. */
  | { kind: 'route'; route: RouteDefinition; key: string; pathParameters: Record<string, string> }
  | { kind: 'wrongMethod'; allowed: string[] }
  | { kind: 'none' };

/** Matches a raw (percent-encoded) path such as URL#pathname or the event's rawPath. */
export function matchRoute(method: string, rawPath: string): RouteMatch {
  const allowed: string[] = [];
  for (const candidate of compiled) {
    const match = rawPath.match(candidate.pattern);
    if (!match) continue;
    if (candidate.route.method !== method) {
      if (!allowed.includes(candidate.route.method)) allowed.push(candidate.route.method);
      continue;
    }
    const pathParameters = Object.fromEntries(candidate.params.map((name, i) => [name, match[i + 1]!]));
    return { kind: 'route', route: candidate.route, key: candidate.key, pathParameters };
  }
  return allowed.length > 0 ? { kind: 'wrongMethod', allowed: allowed.sort() } : { kind: 'none' };
}
