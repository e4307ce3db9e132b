import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { configFromContext } from './stacks/context.js';
import { ProcessaStack } from './stacks/processa-stack.js';

/**
 * CDK entry (cdk.json: `npx tsx infra/app.ts`). Context:
 *   -c stackName=Processa      stack name (default Processa)
 *   -c stage=dev               dev stacks DESTROY tables, queues, logs and the alarm topic on delete; others RETAIN
 *   -c retryBaseSeconds=30     first webhook retry delay (default from the app definition)
 *   -c webhookTimeoutMs=10000  per-attempt webhook HTTP timeout (default from the app definition)
 *   -c alarmEmail=ops@example.com  subscribes this address to the alarm topic (confirm the email SNS sends)
 *   -c nag=true                runs the cdk-nag AwsSolutions checks; any unacknowledged finding fails the synth
 * No env is set: the stack is environment-agnostic and synthesizes without credentials.
 */
const app = new App();
const { stackName, props, nag } = configFromContext(app.node);
new ProcessaStack(app, stackName, { ...props, description: 'Processa: a human approval gate for AI agents' });
// cdk-nag 3 is a policy-validation plugin (not an Aspect): findings fail `app.synth()` and are
// listed in the validation report. Acknowledgments live in infra/stacks/nag-suppressions.ts.
if (nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
