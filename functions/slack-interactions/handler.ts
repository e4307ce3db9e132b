import middy from '@middy/core';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { logRequestId } from '../../shared/log-request-id.js';
import type { Context } from 'aws-lambda';
import type { ApiEvent } from '../../shared/http/api-event.js';
import { header, publicBaseUrl } from '../../shared/http/api-event.js';
import { requestBody } from '../../shared/http/body.js';
import { limits } from '../../shared/http/limits.js';
import { errorResponses, requestIdHeader } from '../../shared/http/middlewares.js';
import { errorBody, json, type HttpResponse } from '../../shared/http/responses.js';
import { slackSecretsFromEnv } from '../../shared/integrations/slack/config.js';
import { handleSlackInteraction } from '../../shared/integrations/slack/interactions.js';
import { parseInteraction } from '../../shared/integrations/slack/payloads.js';
import { verifySlackRequest } from '../../shared/integrations/slack/signature.js';
import { createSlackApi } from '../../shared/integrations/slack/slack-api.js';
import { count, logger, METRICS, publishMetrics, tracer } from '../../shared/observability.js';
import { apiKeyStoreFromEnv } from '../../shared/auth-store-factories.js';
import { draftStoreFromEnv } from '../../shared/store-factories.js';

// Configuration and clients only: the secrets are read on the first request and again each minute (loadCached).
const secrets = slackSecretsFromEnv();
const drafts = draftStoreFromEnv({ deciderKeys: true });
const keys = apiKeyStoreFromEnv();
const slackApiUrl = process.env.PROCESSA_SLACK_API_URL || undefined;
const allowLocalhost = process.env.PROCESSA_ALLOW_LOCALHOST_WEBHOOKS === 'true';

/**
 * POST /v1/integrations/slack/interactions, the Slack app's interactivity URL. No API key: every
 * request must carry Slack's signature over its raw body, made with the app's signing secret
 * (without a configured secret nothing is accepted: 503). Then the payload is parsed and acted on.
 */
async function interactions(event: ApiEvent, _context: Context): Promise<HttpResponse> {
  const configured = await secrets();
  if (!configured) {
    return json(
      503,
      errorBody(
        'slack_not_configured',
        "Deciding from Slack is not set up: configure the Slack app's signing secret (the slackSecret context on AWS, PROCESSA_SLACK_SIGNING_SECRET locally)",
      ),
    );
  }
  const rawBody = requestBody(event, limits.maxBodyBytes).text();
  const verified = verifySlackRequest(configured.signingSecret, {
    timestamp: header(event, 'x-slack-request-timestamp'),
    signature: header(event, 'x-slack-signature'),
    rawBody,
  });
  if (!verified.ok) {
    logger.warn('slack request refused', { reason: verified.reason });
    // Not an UnauthorizedError: that one asks for a Bearer key (WWW-Authenticate), which Slack has none of.
    const reason =
      verified.reason === 'stale_timestamp'
        ? 'The Slack request timestamp is more than five minutes away from now'
        : 'The request is not signed by the Slack app (X-Slack-Signature, X-Slack-Request-Timestamp)';
    return json(401, errorBody('unauthorized', reason));
  }
  const answer = await handleSlackInteraction(parseInteraction(rawBody), {
    drafts,
    keys,
    slack: createSlackApi({ apiUrl: slackApiUrl, botToken: configured.botToken, allowLocalhost }),
    canOpenModals: configured.botToken !== undefined,
    baseUrl: publicBaseUrl(event),
    warn: (message, detail) => logger.warn(message, detail),
  });
  if (answer.decided === 'approved') count(METRICS.draftsApproved);
  if (answer.decided === 'rejected') count(METRICS.draftsRejected);
  // Slack reads an empty 200 as "done" (a modal closes); a view_submission's errors keep it open.
  return answer.body ? json(200, answer.body) : { statusCode: 200, headers: { 'cache-control': 'no-store' }, body: '' };
}

export const handler = middy<ApiEvent, HttpResponse, Error, Context>(interactions)
  .use(captureLambdaHandler(tracer))
  .use(logRequestId(logger))
  .use(publishMetrics())
  .use(requestIdHeader())
  .use(errorResponses());
