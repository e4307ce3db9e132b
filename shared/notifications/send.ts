import type { NotificationSender, Poster, PostResult } from '../webhooks/deliver.js';
import type { DecisionLinksFor } from './email-links.js';
import { emailMessage, type OutgoingEmail } from './email-message.js';
import { parseNotification } from './notification.js';
import { slackMessage } from './slack-message.js';

/** Sends one email; never throws (failures come back as a PostResult with an error, like a POST's). */
export type EmailSender = (email: OutgoingEmail) => Promise<PostResult>;

/**
 * The last step of a channel's delivery: render the notification for its kind and hand it to the
 * kind's adapter: Slack through the guarded poster (the SSRF guard applies at connect time),
 * email through SES (or the local outbox), one message per recipient.
 */
export function createNotificationSender(deps: { post: Poster; email?: EmailSender; from?: string; decisionLinks?: DecisionLinksFor }): NotificationSender {
  return async (endpoint, body, timeoutMs) => {
    const notification = parseNotification(body);
    if (!notification) return { error: 'unreadable notification message', durationMs: 0 };
    if (endpoint.channel === 'slack') {
      return deps.post(
        endpoint.url,
        JSON.stringify(slackMessage(notification)),
        { 'content-type': 'application/json', 'user-agent': 'Processa-Notifications/1.0' },
        timeoutMs,
      );
    }
    if (!deps.email || !deps.from) return { error: 'email is not configured: deploy with the notifyFrom context (a verified SES identity)', durationMs: 0 };
    const message = emailMessage(notification);
    let durationMs = 0;
    let status: number | undefined;
    // One email per recipient, so no one sees the others' addresses. A failure fails the whole
    // attempt; its retry sends to everyone again (at least once, as every delivery is).
    for (const to of endpoint.recipients ?? []) {
      // Each recipient's own Approve and Reject links (bound to that address), where a decision is possible.
      let links;
      try {
        links = await deps.decisionLinks?.(endpoint, notification, to);
      } catch (error) {
        return { error: `decision links not made: ${(error as Error).message}`, durationMs };
      }
      const result = await deps.email({ ...(links ? emailMessage(notification, links) : message), from: deps.from, to });
      durationMs += result.durationMs;
      if (result.error || result.status === undefined || result.status < 200 || result.status >= 300)
        return { ...result, error: `${to}: ${result.error ?? `status ${result.status}`}`, durationMs };
      status = result.status;
    }
    return status === undefined ? { error: 'the channel has no recipients', durationMs } : { status, durationMs };
  };
}
