import type { Node } from 'constructs';
import type { ProcessaStackProps } from './processa-stack.js';
import { THROTTLE_GROUPS, throttleContextKeys, type ApiThrottleInput } from './throttle.js';

export interface ProcessaAppConfig {
  stackName: string;
  props: ProcessaStackProps;
  /** Run the cdk-nag AwsSolutions checks on synth (`-c nag=true`). */
  nag: boolean;
}

/**
 * Reads the app's context (`-c key=value` or cdk.json): stackName (default Processa), stage
 * (`dev` lets stateful resources be destroyed), retryBaseSeconds, webhookTimeoutMs, autoDisableDays,
 * breakerFailures, breakerCooldownSeconds, alarmEmail
 * (subscribed to the alarm topic), secretsExtensionLayerArn (the secrets extension's layer where CDK lists none), tracing (off or sampled, infra/stacks/tracing.ts), the API throttle
 * (apiRateLimit, apiBurstLimit, <group>RateLimit, <group>BurstLimit: infra/stacks/throttle.ts) and nag. Kept
 * apart from app.ts, which synthesizes on import, so tests can check the wiring.
 */
export function configFromContext(node: Node): ProcessaAppConfig {
  const read = (key: string): string | undefined => {
    const value: unknown = node.tryGetContext(key);
    return value === undefined || value === null || value === '' ? undefined : String(value);
  };
  const number = (key: string): number | undefined => {
    const value = read(key);
    return value === undefined ? undefined : Number(value);
  };
  const limits = (keys: { rateLimit: string; burstLimit: string }) => ({ rateLimit: number(keys.rateLimit), burstLimit: number(keys.burstLimit) });
  const apiThrottle: ApiThrottleInput = {
    ...limits(throttleContextKeys()),
    routes: Object.fromEntries(THROTTLE_GROUPS.map((group) => [group, limits(throttleContextKeys(group))])),
  };
  const nag = read('nag');
  if (nag !== undefined && nag !== 'true' && nag !== 'false') throw new Error(`The nag context must be true or false, got "${nag}"`);
  return {
    stackName: read('stackName') ?? 'Processa',
    // Validated by the stack, which also guards direct construction.
    props: {
      stage: read('stage'),
      retryBaseSeconds: number('retryBaseSeconds'),
      webhookTimeoutMs: number('webhookTimeoutMs'),
      autoDisableDays: number('autoDisableDays'),
      breakerFailures: number('breakerFailures'),
      breakerCooldownSeconds: number('breakerCooldownSeconds'),
      alarmEmail: read('alarmEmail'),
      notifyFrom: read('notifyFrom'),
      slackSecret: read('slackSecret'),
      emailLinkKeySecret: read('emailLinkKeySecret'),
      tracing: read('tracing'),
      apiThrottle,
      secretsExtensionLayerArn: read('secretsExtensionLayerArn'),
    },
    nag: nag === 'true',
  };
}
