/**
 * Delay before the next attempt after `attempt` failed: exponential from `baseSeconds`, capped,
 * with "equal jitter" (half fixed, half random) so retries spread out but never come at once.
 */
export function retryDelaySeconds(attempt: number, baseSeconds: number, maxSeconds: number, random: () => number = Math.random): number {
  const exponential = Math.min(maxSeconds, baseSeconds * 2 ** Math.max(0, attempt - 1));
  const half = exponential / 2;
  return Math.min(maxSeconds, Math.max(0, Math.round(half + random() * half)));
}
