import { breakerPolicy, DEFAULT_BREAKER_COOLDOWN_SECONDS, DEFAULT_BREAKER_FAILURES, type BreakerPolicy } from './circuit-breaker.js';

/** The bounds of the two breaker settings, checked by the stack at synth and by the delivery function at cold start. */
export const BREAKER_LIMITS = {
  failures: { min: 1, max: 100 },
  // A deferral hides the message until the cooldown ends; an hour keeps far inside SQS's 12 h visibility cap.
  cooldownSeconds: { min: 1, max: 3600 },
} as const;

/** Why a breaker setting is refused (naming it), or undefined when it is a whole number within its bounds. */
export function breakerSettingError(name: 'breakerFailures' | 'breakerCooldownSeconds', value: number): string | undefined {
  const { min, max } = name === 'breakerFailures' ? BREAKER_LIMITS.failures : BREAKER_LIMITS.cooldownSeconds;
  if (Number.isInteger(value) && value >= min && value <= max) return undefined;
  return `${name} must be a whole number from ${min} to ${max}, got ${value}`;
}

function wholeNumber(envVar: string, name: 'breakerFailures' | 'breakerCooldownSeconds', fallback: number): number {
  const raw = process.env[envVar];
  if (raw === undefined || raw === '') return fallback;
  const error = breakerSettingError(name, Number(raw));
  if (error) throw new Error(`${envVar}: ${error}`);
  return Number(raw);
}

/** K and the cooldown from the environment (the stack sets them from context), read once at cold start. */
export function breakerPolicyFromEnv(timeoutMs: number): BreakerPolicy {
  return breakerPolicy(timeoutMs, {
    failureThreshold: wholeNumber('PROCESSA_BREAKER_FAILURES', 'breakerFailures', DEFAULT_BREAKER_FAILURES),
    cooldownSeconds: wholeNumber('PROCESSA_BREAKER_COOLDOWN_SECONDS', 'breakerCooldownSeconds', DEFAULT_BREAKER_COOLDOWN_SECONDS),
  });
}
