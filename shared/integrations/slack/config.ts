// zod/mini: functional and tree-shakable, a fraction of zod's full build in every function's bundle.
import * as z from 'zod/mini';
import '../../domain/zod-config.js';
import { loadCached, readSecretString, secretsExtensionFromEnv } from '../../store/secret-string.js';

/** What the Slack app gave: its signing secret (required to accept anything) and, optionally, its bot token. */
export interface SlackAppSecrets {
  signingSecret: string;
  botToken?: string;
}

/** Loads the secrets (kept for a minute, then read again: see loadCached); undefined when none are configured. */
export type SlackSecretsSource = () => Promise<SlackAppSecrets | undefined>;

const secretJson = z.object({ signingSecret: z.string().check(z.minLength(1)), botToken: z.optional(z.string().check(z.minLength(1))) });

/** A secret's value: a bare signing secret, or JSON {"signingSecret": "...", "botToken": "xoxb-..."}. */
export function parseSlackSecret(value: string): SlackAppSecrets {
  const trimmed = value.trim();
  if (!trimmed.startsWith('{')) return { signingSecret: trimmed };
  // JSON.parse's message quotes the text around the fault, which would put part of the secret in the logs.
  let json: unknown;
  try {
    json = JSON.parse(trimmed);
  } catch {
    throw new Error('The Slack secret starts with "{" but is not valid JSON');
  }
  const parsed = secretJson.safeParse(json);
  if (!parsed.success) throw new Error('The Slack secret is JSON without a "signingSecret" string');
  return parsed.data;
}

/**
 * On AWS the secrets live in Secrets Manager (PROCESSA_SLACK_SECRET names the secret; the stack
 * grants reading it alone, through the Parameters and Secrets extension); locally the dev runtime passes PROCESSA_SLACK_SIGNING_SECRET and
 * PROCESSA_SLACK_BOT_TOKEN through. A failed load is retried by the next request, not cached; a rotated
 * secret applies within SECRET_CACHE_TTL_MS. `now` is the cache's clock.
 */
export function slackSecretsFromEnv(env: NodeJS.ProcessEnv = process.env, now?: () => Date): SlackSecretsSource {
  const local = env.PROCESSA_SLACK_SIGNING_SECRET;
  if (local) {
    const secrets: SlackAppSecrets = { signingSecret: local, ...(env.PROCESSA_SLACK_BOT_TOKEN ? { botToken: env.PROCESSA_SLACK_BOT_TOKEN } : {}) };
    return async () => secrets;
  }
  const secretId = env.PROCESSA_SLACK_SECRET;
  if (!secretId) return async () => undefined;
  const extension = secretsExtensionFromEnv(env);
  return loadCached(async () => parseSlackSecret(await readSecretString(secretId, 'The Slack secret', extension)), now);
}
