import { get } from 'node:http';
import * as z from 'zod/mini';
import '../domain/zod-config.js';

/**
 * How long a loaded secret is used before the next caller reads it again. Secrets are rotated because
 * they leaked: a minute bounds how long a warm function keeps accepting the old one (and refusing the new
 * one), while a busy function still reads each secret about once a minute, not once per request.
 */
export const SECRET_CACHE_TTL_MS = 60_000;

/**
 * A load kept for SECRET_CACHE_TTL_MS once it succeeds (the secrets it is used for are configuration,
 * like the clients), then read again by the next caller. Concurrent callers share one load. A failed
 * load is never cached: the next caller tries again (throttled, not yet readable). It fails closed: once
 * the time is up, the old value is not served while a new read fails, since the old one may be revoked.
 */
export function loadCached<T>(load: () => Promise<T>, now: () => Date = () => new Date(), ttlMs = SECRET_CACHE_TTL_MS): () => Promise<T> {
  let loading: Promise<T> | undefined;
  // Counted from when the value arrived; unbounded while a load is still under way.
  let expiresAt = Number.POSITIVE_INFINITY;
  return () => {
    if (loading && now().getTime() >= expiresAt) loading = undefined;
    if (!loading) {
      const current = load();
      loading = current;
      expiresAt = Number.POSITIVE_INFINITY;
      current.then(
        () => {
          if (loading === current) expiresAt = now().getTime() + ttlMs;
        },
        () => {
          if (loading === current) loading = undefined;
        },
      );
    }
    return loading;
  };
}

/**
 * Where the AWS Parameters and Secrets Lambda Extension answers: the stack adds it as a layer to every
 * function that reads a secret (infra/stacks/processa-function.ts). It does the signed GetSecretValue,
 * so no Secrets Manager client is bundled; its token is the function's session token, which Lambda sets.
 */
export interface SecretsExtension {
  port: number;
  token: string | undefined;
}

export const SECRETS_EXTENSION_PORT_ENV = 'PARAMETERS_SECRETS_EXTENSION_HTTP_PORT';
const DEFAULT_EXTENSION_PORT = 2773;
/** The extension answers from its cache or after one Secrets Manager call; a hung read must not use up the invocation. */
const EXTENSION_TIMEOUT_MS = 5_000;

export const secretsExtensionFromEnv = (env: NodeJS.ProcessEnv = process.env): SecretsExtension => ({
  port: Number(env[SECRETS_EXTENSION_PORT_ENV]) || DEFAULT_EXTENSION_PORT,
  token: env.AWS_SESSION_TOKEN,
});

// The extension answers with GetSecretValue's own response; only SecretString is read.
const secretValue = z.object({ SecretString: z.optional(z.string()) });

/** The string value of a Secrets Manager secret (wrap it in loadCached); `what` names it in errors. */
export async function readSecretString(secretId: string, what: string, extension: SecretsExtension): Promise<string> {
  const { status, body } = await extensionGet(extension, `/secretsmanager/get?secretId=${encodeURIComponent(secretId)}`, what);
  if (status !== 200) throw new Error(`${what} could not be read (the secrets extension answered ${status}: ${body.slice(0, 200)})`);
  let parsed;
  try {
    parsed = secretValue.safeParse(JSON.parse(body));
  } catch {
    throw new Error(`${what} could not be read (the secrets extension answered with no JSON)`);
  }
  if (!parsed.success) throw new Error(`${what} could not be read (the secrets extension answered an unexpected shape)`);
  if (!parsed.data.SecretString) throw new Error(`${what} has no string value`);
  return parsed.data.SecretString;
}

function extensionGet(extension: SecretsExtension, path: string, what: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = get(
      { host: 'localhost', port: extension.port, path, headers: { 'X-Aws-Parameters-Secrets-Token': extension.token ?? '' }, timeout: EXTENSION_TIMEOUT_MS },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer in ${EXTENSION_TIMEOUT_MS} ms`)));
    request.on('error', (error) => reject(new Error(`${what} could not be read (the secrets extension: ${error.message})`)));
  });
}
