import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { LOCAL_AWS } from '../local/dynamodb-local.js';
import { readRuntimeInfo } from '../local/runtime-info.js';

export class UsageError extends Error {}

/** A deployed stack's outputs by key (the names in infra/stacks/outputs.ts). */
export async function stackOutputs(stack: string, region: string | undefined): Promise<Record<string, string>> {
  const { Stacks } = await new CloudFormationClient({ region }).send(new DescribeStacksCommand({ StackName: stack }));
  return Object.fromEntries((Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']));
}

export function requireOutput(outputs: Record<string, string>, key: string, stack: string): string {
  const value = outputs[key];
  if (!value) throw new UsageError(`Stack ${stack} has no ${key} output: is it a Processa stack?`);
  return value;
}

/** Client settings and resource names for the running dev runtime (with several, the one PORT names; see readRuntimeInfo). */
export function localTarget() {
  const info = readRuntimeInfo();
  return { info, dynamodb: { ...LOCAL_AWS, endpoint: info.dynamodbEndpoint }, sqs: { ...LOCAL_AWS, endpoint: info.sqsEndpoint } };
}

// Lambdas run on Node 22; Node 20 is supported locally on purpose, so the SDK's upgrade notice is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
