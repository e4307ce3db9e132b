import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { EMAIL_LINK_KEY_MIN_LENGTH } from '../notifications/email-links.js';
import { loadCached, readSecretString, secretsExtensionFromEnv, type SecretsExtension } from './secret-string.js';

/** The email-link signing key: kept for SECRET_CACHE_TTL_MS, then read again, so a changed key applies everywhere within it. */
export type EmailLinkKey = () => Promise<string>;

export const EMAIL_LINK_KEY_SECRET_ENV = 'PROCESSA_EMAIL_LINK_KEY_SECRET';
export const EMAIL_LINK_KEY_FILE_ENV = 'PROCESSA_EMAIL_LINK_KEY_FILE';

function checkedKey(key: string): string {
  if (key.length < EMAIL_LINK_KEY_MIN_LENGTH) throw new Error(`The email-link key is shorter than ${EMAIL_LINK_KEY_MIN_LENGTH} characters`);
  return key;
}

/**
 * Where the key lives: the Secrets Manager secret the stack generated (its ARN), or locally a file
 * under .processa/ made once with 32 random bytes (read again the same way, so a replaced file behaves
 * as on AWS). Undefined when neither is configured: emails then carry no decision links. `now` is the cache's clock.
 */
export function emailLinkKeyFromEnv(env: NodeJS.ProcessEnv = process.env, now?: () => Date): EmailLinkKey | undefined {
  const file = env[EMAIL_LINK_KEY_FILE_ENV];
  if (file) return loadCached(async () => checkedKey(localEmailLinkKey(file)), now);
  const secret = env[EMAIL_LINK_KEY_SECRET_ENV];
  if (secret) return secretsManagerEmailLinkKey(secret, secretsExtensionFromEnv(env), now);
  return undefined;
}

/** The key in Secrets Manager, read through the Parameters and Secrets extension (shared/store/secret-string.ts). */
export function secretsManagerEmailLinkKey(secretId: string, extension: SecretsExtension, now?: () => Date): EmailLinkKey {
  return loadCached(async () => checkedKey(await readSecretString(secretId, 'The email-link key secret', extension)), now);
}

/** Read the local key, or create it: exclusive create, so two handlers starting at once agree on one key. */
export function localEmailLinkKey(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(dirname(file), { recursive: true });
  try {
    writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return readFileSync(file, 'utf8').trim();
}
