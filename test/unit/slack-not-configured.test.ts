/**
 * Without the Slack app's signing secret the interactivity URL accepts nothing: every request, signed
 * or not, gets 503 slack_not_configured (and no store is touched).
 */
import type { Context } from 'aws-lambda';
import { slackSignature } from '../../shared/integrations/slack/signature.js';
import { apiEvent } from '../support/api-events.js';

const saved = { ...process.env };
afterAll(() => {
  process.env = saved;
});

it('answers 503 slack_not_configured while no signing secret is configured, signed request or not', async () => {
  Object.assign(process.env, { AWS_REGION: 'us-east-1', DRAFTS_TABLE_NAME: 'unused-drafts', API_KEYS_TABLE_NAME: 'unused-keys' });
  for (const name of ['PROCESSA_SLACK_SIGNING_SECRET', 'PROCESSA_SLACK_SECRET', 'PROCESSA_SLACK_BOT_TOKEN']) delete process.env[name];
  const { handler } = await import('../../functions/slack-interactions/handler.js');
  const body = `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', user: { id: 'U1' }, actions: [] }))}`;
  const timestamp = String(Math.floor(Date.now() / 1000));
  const context = { awsRequestId: 'test', functionName: 'slack-interactions', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;
  const variants: Array<Record<string, string>> = [
    {},
    { 'x-slack-request-timestamp': timestamp, 'x-slack-signature': slackSignature('anything', timestamp, body) },
  ];
  for (const headers of variants) {
    const event = apiEvent({
      routeKey: 'POST /v1/integrations/slack/interactions',
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    });
    const res = await handler(event, context);
    expect(res.statusCode).toBe(503);
    expect(JSON.parse(res.body as string)).toMatchObject({ error: { code: 'slack_not_configured', message: expect.stringMatching(/signing secret/) } });
  }
});
