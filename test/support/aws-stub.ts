import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StubbedAwsRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A loopback stand-in for an AWS API endpoint (point AWS_ENDPOINT_URL_<SERVICE> at `url`): records
 * each request and answers with `answer(request, n)` (n counts from 1).
 */
export async function startAwsStub(answer: (request: StubbedAwsRequest, n: number) => { status: number; body?: string; headers?: Record<string, string> }) {
  const requests: StubbedAwsRequest[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      const recorded = { path: request.url ?? '', headers: request.headers, body };
      requests.push(recorded);
      const { status, body: answerBody = '', headers = {} } = answer(recorded, requests.length);
      response.writeHead(status, headers).end(answerBody);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Fixed test credentials, never real ones. */
export const TEST_CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'session-token' };
