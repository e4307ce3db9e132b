import { createServer, type Server } from 'node:http';
import { Webhook } from 'standardwebhooks';

export interface Receipt {
  webhookId: string;
  draftId: string | undefined;
  /** performance.now() in this process when the body had fully arrived. */
  at: number;
  /** Date.now() at the same moment, to compare with server-side ISO timestamps. */
  wallAt: number;
  /** The payload's timestamp (reviewedAt for decisions), as epoch ms. */
  payloadTimestamp: number | undefined;
  signatureValid: boolean | undefined;
}

/**
 * A keep-alive webhook receiver on loopback that answers 200 at once and timestamps every
 * request. With a secret it verifies each signature (Standard Webhooks) and counts failures.
 */
export async function startBenchReceiver(options: { keepReceipts?: boolean } = {}) {
  const keep = options.keepReceipts ?? true;
  const receipts: Receipt[] = [];
  let count = 0;
  let verifier: Webhook | undefined;
  const listeners = new Set<(receipt: Receipt) => void>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = performance.now();
      const wallAt = Date.now();
      count++;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '2' });
      res.end('{}');
      if (!keep && listeners.size === 0) return;
      const body = Buffer.concat(chunks).toString('utf8');
      let draftId: string | undefined;
      let payloadTimestamp: number | undefined;
      try {
        const payload = JSON.parse(body) as { draft?: { id?: string }; timestamp?: string };
        draftId = payload.draft?.id;
        payloadTimestamp = payload.timestamp ? Date.parse(payload.timestamp) : undefined;
      } catch {
        // counted as a receipt without a draft id
      }
      let signatureValid: boolean | undefined;
      if (verifier) {
        try {
          verifier.verify(body, req.headers as Record<string, string>);
          signatureValid = true;
        } catch {
          signatureValid = false;
        }
      }
      const receipt: Receipt = { webhookId: String(req.headers['webhook-id'] ?? ''), draftId, at, wallAt, payloadTimestamp, signatureValid };
      if (keep) receipts.push(receipt);
      for (const listener of listeners) listener(receipt);
    });
  });
  // Keep connections open between deliveries, as a production receiver behind a load balancer would.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
  return {
    url: `http://127.0.0.1:${port}/webhooks/processa`,
    origin: `http://127.0.0.1:${port}`,
    receipts,
    count: () => count,
    setSecret: (secret: string) => (verifier = new Webhook(secret)),
    onReceipt: (listener: (receipt: Receipt) => void) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    reset: () => {
      receipts.length = 0;
      count = 0;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
export type BenchReceiver = Awaited<ReturnType<typeof startBenchReceiver>>;
