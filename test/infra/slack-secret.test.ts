/**
 * Decide from Slack on AWS: the slackSecret context names the Secrets Manager secret holding the
 * Slack app's signing secret; only the interactivity function learns it and may read it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { functions, settings, type FunctionName } from '../../infra/app-definition.js';
import { configFromContext } from '../../infra/stacks/context.js';
import { ProcessaStack } from '../../infra/stacks/processa-stack.js';

type Json = any;
let outdir: string;

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'processa-slack-cdk-'));
});
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

function synth(context: Record<string, string>) {
  // Bundling is skipped: only environment and IAM are under test.
  const app = new App({ outdir: join(outdir, String(Math.random()).slice(2)), context: { ...context, 'aws:cdk:bundling-stacks': [] } });
  const config = configFromContext(app.node);
  const stack = new ProcessaStack(app, config.stackName, config.props);
  const resources = Template.fromStack(stack).toJSON().Resources as Record<string, Json>;
  const idOf = (fn: FunctionName) => stack.getLogicalId(stack.stateless.functions[fn].node.defaultChild as CfnElement);
  const roleIdOf = (fn: FunctionName) => stack.getLogicalId(stack.stateless.functions[fn].role!.node.defaultChild as CfnElement);
  /** Every statement of a function's role that allows a secretsmanager action. */
  const secretStatements = (fn: FunctionName) =>
    Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles as Json[]).some((role) => role.Ref === roleIdOf(fn)))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Json[])
      .filter((s) => [s.Action].flat().some((a: string) => a.startsWith('secretsmanager:')));
  const variables = (fn: FunctionName) => resources[idOf(fn)].Properties.Environment.Variables as Record<string, unknown>;
  const layers = (fn: FunctionName) => (resources[idOf(fn)].Properties.Layers ?? []) as Json[];
  return { secretStatements, variables, layers };
}

const names = Object.keys(functions) as FunctionName[];

describe('the Slack app secret', () => {
  it('named by the slackSecret context: the interactivity function alone learns its name and may read it (GetSecretValue on that secret only)', () => {
    const { secretStatements, variables } = synth({ slackSecret: 'processa/slack-app' });
    expect(variables('slackInteractions')[settings.slackSecret.envVar]).toBe('processa/slack-app');
    const [statement, ...others] = secretStatements('slackInteractions');
    expect(others).toEqual([]);
    expect(statement.Action).toBe('secretsmanager:GetSecretValue');
    expect(JSON.stringify(statement.Resource)).toContain(':secret:processa/slack-app-??????');
    expect(JSON.stringify(statement.Resource)).not.toContain('*');
    for (const fn of names.filter((n) => n !== 'slackInteractions')) {
      expect({ fn, value: variables(fn)[settings.slackSecret.envVar] }).toEqual({ fn, value: undefined });
      expect(JSON.stringify(secretStatements(fn))).not.toContain('slack-app');
    }
    // The local-only settings are never set on AWS.
    for (const local of [settings.slackSigningSecret, settings.slackBotToken, settings.slackApiUrl])
      expect(variables('slackInteractions')[local.envVar]).toBeUndefined();
  });

  it('is read through the Parameters and Secrets extension: a layer on the functions that read secrets, quiet below WARN, on no other', () => {
    const { layers, variables } = synth({ slackSecret: 'processa/slack-app' });
    const readers = new Set<FunctionName>(['slackInteractions', ...settings.emailLinkKeySecret.functions]);
    for (const fn of names) {
      if (!readers.has(fn)) {
        expect({ fn, layers: layers(fn) }).toEqual({ fn, layers: [] });
        continue;
      }
      expect({ fn, layers: JSON.stringify(layers(fn)) }).toEqual({
        fn,
        layers: expect.stringMatching(/^\[\{"Fn::FindInMap":\["Paramsandsecretslayer.*arm64"\]\}\]$/),
      });
      expect(variables(fn)).toMatchObject({ PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: '2773', PARAMETERS_SECRETS_EXTENSION_LOG_LEVEL: 'warn' });
    }
  });

  it('given as an ARN, that ARN exactly', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:slack-app-AbCdEf';
    const { secretStatements } = synth({ slackSecret: arn });
    expect(secretStatements('slackInteractions').map((s) => s.Resource)).toEqual([arn]);
  });

  it('absent: the function reads no secret (its route answers 503); a malformed name fails the synth', () => {
    const { secretStatements, variables, layers } = synth({});
    expect(secretStatements('slackInteractions')).toEqual([]);
    expect(variables('slackInteractions')[settings.slackSecret.envVar]).toBeUndefined();
    expect(layers('slackInteractions')).toEqual([]);
    expect(() => synth({ slackSecret: 'no spaces allowed' })).toThrow(/slackSecret/);
  });
});
