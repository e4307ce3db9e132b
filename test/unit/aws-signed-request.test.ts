import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import fc from 'fast-check';
import { awsOrigin, sendAwsRequest, signRequest } from '../../shared/store/aws-signed-request.js';
import { startAwsStub, TEST_CREDENTIALS } from '../support/aws-stub.js';

/** node:crypto's SHA-256 in the shape the SDK's signer takes. */
class Sha256 {
  private readonly hash;
  constructor(secret?: string | Uint8Array) {
    this.hash = secret ? createHmac('sha256', secret) : createHash('sha256');
  }
  update(data: string | Uint8Array) {
    this.hash.update(data);
  }
  digest() {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
}

describe("SigV4 signing (node:crypto) for the notification worker's SES and SNS calls", () => {
  it("signs exactly as the AWS SDK's signer does, whatever the body, headers, service, region and time", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'grapheme' }),
        fc.constantFrom('ses', 'sns'),
        fc.constantFrom('eu-west-1', 'us-east-1', 'ap-southeast-2'),
        fc.integer({ min: 1_600_000_000, max: 2_000_000_000 }),
        fc.constantFrom('/', '/v2/email/outbound-emails'),
        fc.boolean(),
        async (body, service, region, seconds, path, withToken) => {
          const at = new Date(seconds * 1000);
          const credentials = withToken ? TEST_CREDENTIALS : { accessKeyId: TEST_CREDENTIALS.accessKeyId, secretAccessKey: TEST_CREDENTIALS.secretAccessKey };
          const origin = `https://${service}.${region}.amazonaws.com`;
          const ours = signRequest({ service, region, origin, path, headers: { 'Content-Type': 'application/json' }, body }, credentials, at);
          const sdk = await new SignatureV4({ service, region, credentials, sha256: Sha256 as never, uriEscapePath: true, applyChecksum: false }).sign(
            {
              method: 'POST',
              protocol: 'https:',
              hostname: `${service}.${region}.amazonaws.com`,
              path,
              headers: { 'content-type': 'application/json', host: `${service}.${region}.amazonaws.com` },
              body,
            },
            { signingDate: at },
          );
          expect(ours.authorization).toBe(sdk.headers.authorization);
          expect(ours['x-amz-date']).toBe(sdk.headers['x-amz-date']);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('takes the endpoint from AWS_ENDPOINT_URL_<SERVICE> (as the SDK does), else the regional one', () => {
    expect(awsOrigin('SNS', (r) => `sns.${r}.amazonaws.com`, { AWS_REGION: 'eu-west-1' })).toEqual({
      origin: 'https://sns.eu-west-1.amazonaws.com',
      region: 'eu-west-1',
    });
    expect(awsOrigin('SNS', (r) => `sns.${r}.amazonaws.com`, { AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL_SNS: 'http://127.0.0.1:4566/' })).toEqual({
      origin: 'http://127.0.0.1:4566',
      region: 'eu-west-1',
    });
  });

  it('retries throttling and server errors (3 attempts in all), not refusals; answers with the last reply', async () => {
    const stub = await startAwsStub((_, n) => (n < 3 ? { status: n === 1 ? 503 : 429, body: 'busy' } : { status: 200, body: 'ok' }));
    try {
      const request = { service: 'sns', region: 'eu-west-1', origin: stub.url, path: '/', headers: {}, body: 'x=1' };
      expect(await sendAwsRequest(request, { credentials: () => TEST_CREDENTIALS })).toEqual({ status: 200, body: 'ok' });
      expect(stub.requests).toHaveLength(3);
    } finally {
      await stub.close();
    }
    const refusing = await startAwsStub(() => ({ status: 400, body: 'no', headers: { 'x-amzn-ErrorType': 'MessageRejected:http://internal.amazon.com/' } }));
    try {
      const request = { service: 'ses', region: 'eu-west-1', origin: refusing.url, path: '/', headers: {}, body: '{}' };
      expect(await sendAwsRequest(request, { credentials: () => TEST_CREDENTIALS })).toEqual({ status: 400, body: 'no', errorType: 'MessageRejected' });
      expect(refusing.requests).toHaveLength(1);
    } finally {
      await refusing.close();
    }
  });

  it('reads its credentials from the environment, as Lambda provides them, and says so when there are none', async () => {
    const stub = await startAwsStub(() => ({ status: 200 }));
    const saved = { ...process.env };
    try {
      Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDENV', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'token' });
      await sendAwsRequest({ service: 'sns', region: 'eu-west-1', origin: stub.url, path: '/', headers: {}, body: '' });
      expect(stub.requests[0]!.headers.authorization).toContain('Credential=AKIDENV/');
      expect(stub.requests[0]!.headers['x-amz-security-token']).toBe('token');
      delete process.env.AWS_ACCESS_KEY_ID;
      await expect(sendAwsRequest({ service: 'sns', region: 'eu-west-1', origin: stub.url, path: '/', headers: {}, body: '' })).rejects.toThrow(
        /AWS_ACCESS_KEY_ID/,
      );
    } finally {
      for (const key of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) delete process.env[key];
      Object.assign(process.env, saved);
      await stub.close();
    }
  });
});
