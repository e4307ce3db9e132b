import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { slackSecretsFromEnv } from '../../shared/integrations/slack/config.js';
import { slackSignature, verifySlackRequest } from '../../shared/integrations/slack/signature.js';
import { signEmailLink, verifyEmailLink } from '../../shared/notifications/email-links.js';
import { EMAIL_LINK_KEY_FILE_ENV, emailLinkKeyFromEnv, secretsManagerEmailLinkKey } from '../../shared/store/email-link-key.js';
import { readSecretString, SECRET_CACHE_TTL_MS, SECRETS_EXTENSION_PORT_ENV, type SecretsExtension } from '../../shared/store/secret-string.js';

const KEY = 'k'.repeat(48);
const ROTATED_KEY = 'r'.repeat(48);
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
/** The loaders' clock: tests move it past the cache's lifetime instead of waiting. */
let clockMs: number;
const now = () => new Date(clockMs);

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
  clockMs = Date.parse('2026-12-01T12:00:00Z');
});

const secret = (value: Record<string, unknown>) => ({
  status: 200,
  body: { ARN: 'arn:secret:x', Name: 'x', VersionId: 'v1', VersionStages: ['AWSCURRENT'], ...value },
});

describe('secrets read through the Parameters and Secrets extension (email-link key, Slack app)', () => {
  it('keep a loaded secret for a short while: 20 concurrent first callers share one read, later callers within it none', async () => {
    answers = [secret({ SecretString: KEY })];
    const key = secretsManagerEmailLinkKey('arn:aws:secretsmanager:us-east-1:123456789012:secret:link/key-AbCdEf', extension, now);
    expect(await Promise.all(Array.from({ length: 20 }, () => key()))).toEqual(Array(20).fill(KEY));
    clockMs += SECRET_CACHE_TTL_MS - 1;
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

  it('a rotated email-link key applies once the cache lapses: links signed with the old key are then refused as tampered', async () => {
    answers = [secret({ SecretString: KEY }), secret({ SecretString: ROTATED_KEY })];
    const key = secretsManagerEmailLinkKey('arn:secret:link', extension, now);
    const link = { draftId: 'dr_1', recipient: 'r@example.com', decision: 'approve' as const, channelId: 'ep_1', expiresAt: new Date(clockMs + 3_600_000) };
    const signedWithOld = signEmailLink(await key(), link);
    clockMs += SECRET_CACHE_TTL_MS - 1;
    expect(verifyEmailLink(await key(), signedWithOld, now())).toMatchObject({ ok: true });
    clockMs += 1;
    expect(await key()).toBe(ROTATED_KEY);
    expect(verifyEmailLink(await key(), signedWithOld, now())).toEqual({ ok: false, reason: 'tampered' });
    expect(verifyEmailLink(await key(), signEmailLink(await key(), link), now())).toMatchObject({ ok: true });
    expect(requests).toHaveLength(2);
  });

  it('20 concurrent callers when the cache has lapsed share one read of the new value', async () => {
    answers = [secret({ SecretString: KEY }), secret({ SecretString: ROTATED_KEY })];
    const key = secretsManagerEmailLinkKey('arn:secret:link', extension, now);
    expect(await key()).toBe(KEY);
    clockMs += SECRET_CACHE_TTL_MS;
    expect(await Promise.all(Array.from({ length: 20 }, () => key()))).toEqual(Array(20).fill(ROTATED_KEY));
    expect(requests).toHaveLength(2);
  });

  it('fail closed while a re-read fails: the lapsed value is not served, the next caller reads again', async () => {
    answers = [secret({ SecretString: KEY }), { status: 400, body: { message: 'ThrottlingException: Rate exceeded' } }, secret({ SecretString: ROTATED_KEY })];
    const key = secretsManagerEmailLinkKey('arn:secret:link', extension, now);
    expect(await key()).toBe(KEY);
    clockMs += SECRET_CACHE_TTL_MS;
    await expect(key()).rejects.toThrow(/ThrottlingException/);
    expect(await key()).toBe(ROTATED_KEY);
    expect(requests).toHaveLength(3);
  });

  it('the local key file is read again the same way: a replaced file applies once the cache lapses', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'processa-link-key-')), 'email-link-key');
    writeFileSync(file, `${KEY}\n`);
    const key = emailLinkKeyFromEnv({ [EMAIL_LINK_KEY_FILE_ENV]: file }, now)!;
    expect(await key()).toBe(KEY);
    writeFileSync(file, `${ROTATED_KEY}\n`);
    expect(await key()).toBe(KEY);
    clockMs += SECRET_CACHE_TTL_MS;
    expect(await key()).toBe(ROTATED_KEY);
  });

  it('Slack: the secret named by PROCESSA_SLACK_SECRET, bare or as JSON with the bot token, kept for a short while', async () => {
    answers = [secret({ SecretString: JSON.stringify({ signingSecret: 'sig', botToken: 'xoxb-1' }) })];
    const env = { PROCESSA_SLACK_SECRET: 'arn:secret:slack', AWS_SESSION_TOKEN: TOKEN, [SECRETS_EXTENSION_PORT_ENV]: String(extension.port) };
    const secrets = slackSecretsFromEnv(env, now);
    expect(await secrets()).toEqual({ signingSecret: 'sig', botToken: 'xoxb-1' });
    expect(await secrets()).toEqual({ signingSecret: 'sig', botToken: 'xoxb-1' });
    expect(requests).toEqual([{ path: '/secretsmanager/get?secretId=arn%3Asecret%3Aslack', token: TOKEN }]);
  });

  it('Slack: a bad secret fails with a clear error and is read again next time; none configured means none', async () => {
    answers = [secret({ SecretString: '{"botToken":"xoxb-1"}' }), secret({ SecretString: ' bare-secret ' })];
    const env = { PROCESSA_SLACK_SECRET: 'arn:secret:slack', AWS_SESSION_TOKEN: TOKEN, [SECRETS_EXTENSION_PORT_ENV]: String(extension.port) };
    const secrets = slackSecretsFromEnv(env, now);
    await expect(secrets()).rejects.toThrow('The Slack secret is JSON without a "signingSecret" string');
    expect(await secrets()).toEqual({ signingSecret: 'bare-secret' });
    expect(await slackSecretsFromEnv({})()).toBeUndefined();
    expect(await slackSecretsFromEnv({ PROCESSA_SLACK_SIGNING_SECRET: 'local' })()).toEqual({ signingSecret: 'local' });
    expect(requests).toHaveLength(2);
  });

  it('Slack: after the signing secret is rotated, a request signed with the old one is refused and one with the new one accepted', async () => {
    answers = [secret({ SecretString: 'old-signing-secret' }), secret({ SecretString: JSON.stringify({ signingSecret: 'new-signing-secret' }) })];
    const env = { PROCESSA_SLACK_SECRET: 'arn:secret:slack', AWS_SESSION_TOKEN: TOKEN, [SECRETS_EXTENSION_PORT_ENV]: String(extension.port) };
    const secrets = slackSecretsFromEnv(env, now);
    const rawBody = 'payload=%7B%22type%22%3A%22block_actions%22%7D';
    const timestamp = String(Math.floor(clockMs / 1000));
    const signedBy = (signingSecret: string) => ({ timestamp, signature: slackSignature(signingSecret, timestamp, rawBody), rawBody });
    const verify = async (signingSecret: string) => verifySlackRequest((await secrets())!.signingSecret, signedBy(signingSecret), now());
    expect(await verify('old-signing-secret')).toEqual({ ok: true });
    clockMs += SECRET_CACHE_TTL_MS - 1;
    expect(await verify('new-signing-secret')).toEqual({ ok: false, reason: 'bad_signature' });
    clockMs += 1;
    expect(await verify('old-signing-secret')).toEqual({ ok: false, reason: 'bad_signature' });
    expect(await verify('new-signing-secret')).toEqual({ ok: true });
    expect(requests).toHaveLength(2);
  });
});
