import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/**
 * A load kept for the life of the process once it succeeds (the secrets it is used for are
 * configuration, like the clients), and attempted again by the next caller after a failure
 * (throttled, not yet readable), never cached as failed. Concurrent callers share one load.
 */
export function loadOnce<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => {
    const current = (loading ??= load());
    current.catch(() => {
      if (loading === current) loading = undefined;
    });
    return current;
  };
}

/** The string value of a Secrets Manager secret (wrap it in loadOnce); `what` names it in errors. */
export async function readSecretString(client: SecretsManagerClient, secretId: string, what: string): Promise<string> {
  const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  if (!SecretString) throw new Error(`${what} has no string value`);
  return SecretString;
}
