import { createHash, createHmac } from 'node:crypto';

/**
 * One AWS API call over fetch, signed with Signature Version 4 by node:crypto. The notification
 * worker calls two operations (SES v2 SendEmail, SNS Publish); their SDK clients and protocol code
 * cost ~90 KB of its bundle, this a few. Credentials come from the environment, as Lambda provides
 * them (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN).
 */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface AwsRequest {
  /** The signing name: `ses`, `sns`. */
  service: string;
  region: string;
  /** The endpoint's origin, e.g. https://email.eu-west-1.amazonaws.com. */
  origin: string;
  /** The path, already in canonical form (no characters needing encoding). */
  path: string;
  headers: Record<string, string>;
  body: string;
}

const sha256Hex = (data: string): string => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

/** ISO 8601 basic format, as SigV4 wants it: 20260210T120503Z. */
const amzDate = (at: Date): string =>
  at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');

/** The request's headers with host, x-amz-date (and the session token) and the SigV4 Authorization header added. */
export function signRequest(request: AwsRequest, credentials: AwsCredentials, at: Date): Record<string, string> {
  if (!/^\/[A-Za-z0-9\-._~/]*$/.test(request.path)) throw new Error(`path ${request.path} needs encoding, which this signer does not do`);
  const dateTime = amzDate(at);
  const date = dateTime.slice(0, 8);
  const headers: Record<string, string> = {
    ...Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name.toLowerCase(), value.trim().replace(/\s+/g, ' ')])),
    host: new URL(request.origin).host,
    'x-amz-date': dateTime,
    ...(credentials.sessionToken ? { 'x-amz-security-token': credentials.sessionToken } : {}),
  };
  const names = Object.keys(headers).sort();
  const signedHeaders = names.join(';');
  const canonicalRequest = ['POST', request.path, '', ...names.map((name) => `${name}:${headers[name]}`), '', signedHeaders, sha256Hex(request.body)].join(
    '\n',
  );
  const scope = `${date}/${request.region}/${request.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', dateTime, scope, sha256Hex(canonicalRequest)].join('\n');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, date), request.region), request.service), 'aws4_request');
  const signature = createHmac('sha256', signingKey).update(stringToSign, 'utf8').digest('hex');
  return {
    ...headers,
    authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
}

export function credentialsFromEnv(env: NodeJS.ProcessEnv = process.env): AwsCredentials {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) throw new Error('No AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)');
  return { accessKeyId, secretAccessKey, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) };
}

export interface AwsResponse {
  status: number;
  body: string;
  /** The x-amzn-ErrorType header of REST and JSON APIs' errors (e.g. "MessageRejected"), without its ":<url>" tail. */
  errorType?: string;
}

/** Throttling and server errors, and requests that never got an answer, are worth another try (as the SDK's standard retry mode). */
const retryable = (status: number): boolean => status === 429 || status >= 500;

/**
 * Sends the request signed, up to `attempts` times (exponential backoff with full jitter from
 * 100 ms) while AWS throttles, fails on its side or does not answer. Resolves with the last
 * answer, whatever its status; throws only when no attempt got one.
 */
export async function sendAwsRequest(
  request: AwsRequest,
  options: { credentials?: () => AwsCredentials; attempts?: number; timeoutMs?: number; now?: () => Date } = {},
): Promise<AwsResponse> {
  const attempts = options.attempts ?? 3;
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, Math.random() * 100 * 2 ** (attempt - 2)));
    // Read per attempt: Lambda may refresh the role's credentials in the environment between invocations.
    const headers = signRequest(request, (options.credentials ?? credentialsFromEnv)(), (options.now ?? (() => new Date()))());
    try {
      const response = await fetch(`${request.origin}${request.path}`, {
        method: 'POST',
        headers,
        body: request.body,
        signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
      });
      const errorType = response.headers.get('x-amzn-errortype')?.split(':')[0];
      const answer: AwsResponse = { status: response.status, body: await response.text(), ...(errorType ? { errorType } : {}) };
      if (!retryable(answer.status) || attempt === attempts) return answer;
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

/**
 * The endpoint for a service: AWS_ENDPOINT_URL_<SERVICE> or AWS_ENDPOINT_URL when set (as the SDK
 * reads them; tests point them at a local server), else the public regional endpoint.
 */
export function awsOrigin(envName: string, host: (region: string) => string, env: NodeJS.ProcessEnv = process.env): { origin: string; region: string } {
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1';
  const configured = env[`AWS_ENDPOINT_URL_${envName}`] || env.AWS_ENDPOINT_URL;
  return { origin: (configured ? new URL(configured).origin : `https://${host(region)}`).replace(/\/$/, ''), region };
}
