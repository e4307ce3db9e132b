import { describe, expect, it } from '@jest/globals';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { slackSecretsFromEnv } from '../../shared/integrations/slack/config.js';
import { secretsManagerEmailLinkKey } from '../../shared/store/email-link-key.js';

const KEY = 'k'.repeat(48);

function secretsManager() {
  const client = new SecretsManagerClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
  return { client, mock: mockClient(client) };
}

describe('secrets loaded from Secrets Manager (email-link key, Slack app)', () => {
  it('load once for the process: 20 concurrent first callers share one GetSecretValue, later callers none', async () => {
    const { client, mock } = secretsManager();
    mock.on(GetSecretValueCommand).resolves({ SecretString: KEY });
    const key = secretsManagerEmailLinkKey('arn:secret:link', client);
    expect(await Promise.all(Array.from({ length: 20 }, () => key()))).toEqual(Array(20).fill(KEY));
    expect(await key()).toBe(KEY);
    expect(mock.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    expect(mock.commandCalls(GetSecretValueCommand)[0]!.args[0].input).toEqual({ SecretId: 'arn:secret:link' });
  });

  it('do not cache a failure: a throttled load is tried again by the next caller', async () => {
    const { client, mock } = secretsManager();
    mock.on(GetSecretValueCommand).rejectsOnce(new Error('ThrottlingException')).resolves({ SecretString: KEY });
    const key = secretsManagerEmailLinkKey('arn:secret:link', client);
    await expect(key()).rejects.toThrow('ThrottlingException');
    expect(await key()).toBe(KEY);
    expect(mock.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('name what is wrong with a value: no string, or an email-link key too short to sign with', async () => {
    const { client, mock } = secretsManager();
    mock
      .on(GetSecretValueCommand)
      .resolvesOnce({ SecretBinary: new Uint8Array([1]) })
      .resolves({ SecretString: 'short' });
    const key = secretsManagerEmailLinkKey('arn:secret:link', client);
    await expect(key()).rejects.toThrow('The email-link key secret has no string value');
    await expect(key()).rejects.toThrow(/The email-link key is shorter than \d+ characters/);
  });

  it('Slack: the secret named by PROCESSA_SLACK_SECRET, bare or as JSON with the bot token, loaded once', async () => {
    const { client, mock } = secretsManager();
    mock.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ signingSecret: 'sig', botToken: 'xoxb-1' }) });
    const secrets = slackSecretsFromEnv({ PROCESSA_SLACK_SECRET: 'arn:secret:slack' }, client);
    expect(await secrets()).toEqual({ signingSecret: 'sig', botToken: 'xoxb-1' });
    expect(await secrets()).toEqual({ signingSecret: 'sig', botToken: 'xoxb-1' });
    expect(mock.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('Slack: a bad secret fails with a clear error and is read again next time; none configured means none', async () => {
    const { client, mock } = secretsManager();
    mock.on(GetSecretValueCommand).resolvesOnce({ SecretString: '{"botToken":"xoxb-1"}' }).resolves({ SecretString: ' bare-secret ' });
    const secrets = slackSecretsFromEnv({ PROCESSA_SLACK_SECRET: 'arn:secret:slack' }, client);
    await expect(secrets()).rejects.toThrow('The Slack secret is JSON without a "signingSecret" string');
    expect(await secrets()).toEqual({ signingSecret: 'bare-secret' });
    expect(await slackSecretsFromEnv({}, client)()).toBeUndefined();
    expect(await slackSecretsFromEnv({ PROCESSA_SLACK_SIGNING_SECRET: 'local' }, client)()).toEqual({ signingSecret: 'local' });
    expect(mock.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });
});
