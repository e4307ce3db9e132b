import http from 'node:http';
import https from 'node:https';
import { forbiddenLiteralHostReason, guardedLookup, type UrlPolicy } from './address-guard.js';
import type { Poster, PostResult } from './deliver.js';

/** Enough of a failing response to tell a human what the receiver said. */
const RESPONSE_SNIPPET_BYTES = 300;

const ERROR_TEXT: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by the receiver',
  ENOTFOUND: 'DNS lookup failed: host not found',
  EAI_AGAIN: 'DNS lookup failed: temporary failure',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

/**
 * A poster on node:http(s) with keep-alive agents. Every connection resolves its host through
 * the address guard (so DNS rebinding cannot reach internal addresses), redirects are never
 * followed, and the whole attempt is bounded by the timeout.
 */
export function createPoster(policy: UrlPolicy): Poster {
  const lookup = guardedLookup(policy);
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: 50 }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: 50 }),
  };
  return (url, body, headers, timeoutMs) =>
    new Promise<PostResult>((resolve) => {
      const started = performance.now();
      const target = new URL(url);
      const literalReason = forbiddenLiteralHostReason(target, policy);
      if (literalReason) {
        resolve({ error: `refused to connect: ${literalReason}`, durationMs: 0 });
        return;
      }
      const transport = target.protocol === 'https:' ? https : http;
      const agent = agents[target.protocol as 'http:' | 'https:'];
      let settled = false;
      const finish = (result: Omit<PostResult, 'durationMs'>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ ...result, durationMs: performance.now() - started });
      };
      const request = transport.request(
        target,
        { method: 'POST', agent, lookup, headers: { ...headers, 'content-length': Buffer.byteLength(body) } },
        (response) => {
          const status = response.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            // A 2xx counts once the whole response arrived; a receiver that drops the connection
            // mid-response is retried (same webhook-id), as at-least-once delivery allows.
            response.resume();
            response.once('end', () => finish({ status }));
            response.once('close', () => {
              if (!response.complete) finish({ error: `connection closed before the response completed (HTTP ${status})` });
            });
            return;
          }
          let snippet = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => {
            if (snippet.length < RESPONSE_SNIPPET_BYTES) snippet += chunk;
          });
          const said = status >= 300 && status < 400 ? 'redirects are not followed' : snippet.slice(0, RESPONSE_SNIPPET_BYTES).trim();
          const retryAfter = response.headers['retry-after'];
          const done = () => finish({ status, error: `HTTP ${status}${said ? `: ${said}` : ''}`, ...(retryAfter ? { retryAfter } : {}) });
          response.once('end', done);
          response.once('error', done);
        },
      );
      const timer = setTimeout(() => {
        finish({ error: `timed out after ${timeoutMs} ms` });
        request.destroy();
      }, timeoutMs);
      request.once('error', (error: NodeJS.ErrnoException) => {
        finish({ error: (error.code && ERROR_TEXT[error.code]) || error.message || String(error) });
      });
      request.end(body);
    });
}
