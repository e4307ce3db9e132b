import type { Node } from 'constructs';
import type { ProcessaStackProps } from './processa-stack.js';

export interface ProcessaAppConfig {
  stackName: string;
  props: ProcessaStackProps;
}

/**
 * Reads the app's context (`-c key=value` or cdk.json): stackName (default Processa), stage
 * (`dev` lets stateful resources be destroyed), retryBaseSeconds and webhookTimeoutMs. Kept
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
  return {
    stackName: read('stackName') ?? 'Processa',
    // Validated by the stack, which also guards direct construction.
    props: { stage: read('stage'), retryBaseSeconds: number('retryBaseSeconds'), webhookTimeoutMs: number('webhookTimeoutMs') },
  };
}
