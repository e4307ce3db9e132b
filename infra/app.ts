import { App } from 'aws-cdk-lib';
import { configFromContext } from './stacks/context.js';
import { ProcessaStack } from './stacks/processa-stack.js';

/**
 * CDK entry (cdk.json: `npx tsx infra/app.ts`). Context:
 *   -c stackName=Processa      stack name (default Processa)
 *   -c stage=dev               dev stacks DESTROY tables, queues and logs on delete; others RETAIN
 *   -c retryBaseSeconds=30     first webhook retry delay (default from the app definition)
 *   -c webhookTimeoutMs=10000  per-attempt webhook HTTP timeout (default from the app definition)
 * No env is set: the stack is environment-agnostic and synthesizes without credentials.
 */
const app = new App();
const { stackName, props } = configFromContext(app.node);
new ProcessaStack(app, stackName, { ...props, description: 'Processa: a human approval gate for AI agents' });
app.synth();
