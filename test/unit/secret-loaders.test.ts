import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { slackSecretsFromEnv } from '../../shared/integrations/slack/config.js';
import { secretsManagerEmailLinkKey } from '../../shared/store/email-link-key.js';
import { readSecretString, SECRETS_EXTENSION_PORT_ENV, type SecretsExtension } from '../../shared/store/secret-string.js';

const KEY = 'k'.repeat(48);
const TOKEN = 'session-token-of-the-function';

/**
 * A stand-in for the AWS Parameters and Secrets Lambda Extension on loopback, speaking its documented
 * interface: GET /secretsmanager/get?secretId=…, the session token in X-Aws-Parameters-Secrets-Token
 * (401 without it), GetSecretValue's response as JSON. Each test queues the answers it wants.
 */
let server: Server;
let extension: SecretsExtension;
let answers: Array<{ status: number; body: unknown }>;
let requests: Array<{ path: string; token: string | undefined }>;

beforeAll(async () => {
  server = createServer((request: IncomingMessage, response) => {
    const token = request.headers['x-aws-parameters-secrets-token'] as string | undefined;
    requests.push({ path: request.url ?? '', token });
    if (token !== TOKEN) return void response.writeHead(401).end('{"message":"not authorized"}');
    const answer = answers.length > 1 ? answers.shift()! : answers[0];
    if (!answer) return void response.writeHead(500).end('no answer queued');
    response.writeHead(answer.status, { 'content-type': 'application/json' }).end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  extension = { port: (server.address() as AddressInfo).port, token: TOKEN };
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  answers = [];
  requests = [];
});

const secret = (value: Record<string, unknown>) => ({
  status: 200,
  body: { ARN: 'arn:secret:x', Name: 'x', VersionId: 'v1', VersionStages: ['AWSCURRENT'], ...value },
});

describe('secrets read through the Parameters and Secrets extension (email-link key, Slack app)', () => {
  it('load once for the process: 20 concurrent first callers share one read, later callers none', async () => {
    answers = [secret({ SecretString: KEY })];
    const key = secretsManagerEmailLinkKey('arn:aws:secretsmanager:us-east-1:123456789012:secret:link/key-AbCdEf', extension);
    expect(await Promise.all(Array.from({ length: 20 }, () => key()))).toEqual(Array(20).fill(KEY));
    expect(await key()).toBe(KEY);
    expect(requests).toEqual([
      { path: `/secretsmanager/get?secretId=${encodeURIComponent('arn:aws:secretsmanager:us-east-1:123456789012:secret:link/key-AbCdEf')}`, token: TOKEN },
    ]);
  });

  it('do not cache a failure: a throttled read is tried again by the next caller', async () => {
    answers = [{ status: 400, body: { message: 'ThrottlingException: Rate exceeded' } }, secret({ SecretString: KEY })];
    const key = secretsManagerEmailLinkKey('arn:secret:link', extension);
    await expect(key()).rejects.toThrow(/The email-link key secret could not be read \(the secrets extension answered 400: .*ThrottlingException/);
    expect(await key()).toBe(KEY);
    expect(requests).toHaveLength(2);
  });

  it('name what is wrong with a value: no string, or an email-link key too short to sign with', async () => {
    answers = [secret({ SecretBinary: 'AQ==' }), secret({ SecretString: 'short' })];
    const key = secretsManagerEmailLinkKey('arn:secret:link', extension);
    await expect(key()).rejects.toThrow('The email-link key secret has no string value');
    await expect(key()).rejects.toThrow(/The email-link key is shorter than \d+ characters/);
  });

  it('refuse what is not the extension answering: no token (401), no JSON, a wrong shape, nobody listening', async () => {
    answers = [secret({ SecretString: KEY })];
    await expect(readSecretString('s', 'The test secret', { ...extension, token: undefined })).rejects.toThrow(
      'The test secret could not be read (the secrets extension answered 401',
    );
    answers = [{ status: 200, body: '<html>' }];
    await expect(readSecretString('s', 'The test secret', extension)).rejects.toThrow('answered with no JSON');
    answers = [{ status: 200, body: { SecretString: 42 } }];
    await expect(readSecretString('s', 'The test secret', extension)).rejects.toThrow('answered an unexpected shape');
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(readSecretString('s', 'The test secret', { port, token: TOKEN })).rejects.toThrow(
      /The test secret could not be read \(the secrets extension: /,
    );
  });

  it('Slack: the secret named by PROCESSA_SLACK_SECRET, bare or as JSON with the bot token, loaded once', async () => {
    answers = [secret({ SecretString: JSON.stringify({ signingSecret: 'sig', botToken: 'xoxb-1' }) })];
    const env = { PROCESSA_SLACK_SECRET: 'arn:secret:slack', AWS_SESSION_TOKEN: TOKEN, [SECRETS_EXTENSION_PORT_ENV]: String(extension.port) };
    const secrets = slackSecretsFromEnv(env);
    expect(await secrets()).toEqual({ signingSecret: 'sig', botToken: 'xoxb-1' });
    expect(await secrets()).toEqual({ signingSecret: 'sig', botToken: 'xoxb-1' });
    expect(requests).toEqual([{ path: '/secretsmanager/get?secretId=arn%3Asecret%3Aslack', token: TOKEN }]);
  });

  it('Slack: a bad secret fails with a clear error and is read again next time; none configured means none', async () => {
    answers = [secret({ SecretString: '{"botToken":"xoxb-1"}' }), secret({ SecretString: ' bare-secret ' })];
    const env = { PROCESSA_SLACK_SECRET: 'arn:secret:slack', AWS_SESSION_TOKEN: TOKEN, [SECRETS_EXTENSION_PORT_ENV]: String(extension.port) };
    const secrets = slackSecretsFromEnv(env);
    await expect(secrets()).rejects.toThrow('The Slack secret is JSON without a "signingSecret" string');
    expect(await secrets()).toEqual({ signingSecret: 'bare-secret' });
    expect(await slackSecretsFromEnv({})()).toBeUndefined();
    expect(await slackSecretsFromEnv({ PROCESSA_SLACK_SIGNING_SECRET: 'local' })()).toEqual({ signingSecret: 'local' });
    expect(requests).toHaveLength(2);
  });
});
