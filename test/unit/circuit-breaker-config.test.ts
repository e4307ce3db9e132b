import { breakerPolicyFromEnv, breakerSettingError } from '../../shared/webhooks/circuit-breaker-config.js';

describe('breaker settings', () => {
  const saved = { ...process.env };
  afterEach(() => {
    delete process.env.PROCESSA_BREAKER_FAILURES;
    delete process.env.PROCESSA_BREAKER_COOLDOWN_SECONDS;
    Object.assign(process.env, saved);
  });

  it('unset: K 5 and a 30 s cooldown; set: the values given', () => {
    expect(breakerPolicyFromEnv(10_000)).toMatchObject({ failureThreshold: 5, cooldownSeconds: 30, hangAfterMs: 1000 });
    process.env.PROCESSA_BREAKER_FAILURES = '3';
    process.env.PROCESSA_BREAKER_COOLDOWN_SECONDS = '120';
    expect(breakerPolicyFromEnv(10_000)).toMatchObject({ failureThreshold: 3, cooldownSeconds: 120 });
  });

  it.each([
    ['PROCESSA_BREAKER_FAILURES', '0'],
    ['PROCESSA_BREAKER_FAILURES', '1.5'],
    ['PROCESSA_BREAKER_FAILURES', 'five'],
    ['PROCESSA_BREAKER_COOLDOWN_SECONDS', '3601'],
    ['PROCESSA_BREAKER_COOLDOWN_SECONDS', '-1'],
  ])('%s=%s fails the cold start, naming the variable', (name, value) => {
    process.env[name] = value;
    expect(() => breakerPolicyFromEnv(10_000)).toThrow(name);
  });

  it.each([
    ['breakerFailures', 1, true],
    ['breakerFailures', 100, true],
    ['breakerFailures', 101, false],
    ['breakerCooldownSeconds', 3600, true],
    ['breakerCooldownSeconds', 0.5, false],
  ] as const)('%s %s accepted: %s', (name, value, ok) => {
    expect(breakerSettingError(name, value) === undefined).toBe(ok);
  });
});
