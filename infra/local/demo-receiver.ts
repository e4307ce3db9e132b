import { createServer, type Server } from 'node:http';
import { Webhook } from 'standardwebhooks';

export interface ReceivedEvent {
  webhookId: string;
  timestamp: string;
  payload: { event: string; draft: Record<string, unknown>; test?: boolean; timestamp: string };
  receivedAt: string;
}

export interface DemoReceiver {
  url: string;
  /** Verified events, in arrival order; also served as JSON at GET /events. */
  events: ReceivedEvent[];
  setSecret(secret: string): void;
  stop(): Promise<void>;
}

/**
 * `npm run dev --demo-receiver`: a webhook receiver on loopback that verifies every delivery
 * with the Standard Webhooks library (as a customer would), prints it, and answers 200;
 * unverifiable requests get 401 and are printed as such.
 */
export async function startDemoReceiver(log: (line: string) => void = console.log): Promise<DemoReceiver> {
  let webhook: Webhook | undefined;
  const events: ReceivedEvent[] = [];
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/events') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(events));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      try {
        if (!webhook) throw new Error('no secret yet');
        const payload = webhook.verify(body, req.headers as Record<string, string>) as ReceivedEvent['payload'];
        const webhookId = String(req.headers['webhook-id']);
        events.push({ webhookId, timestamp: String(req.headers['webhook-timestamp']), payload, receivedAt: new Date().toISOString() });
        const detail =
          payload.event === 'draft.rejected' ? `reason: ${payload.draft.rejectionReason ?? '(none)'}` : `content: ${JSON.stringify(payload.draft.content)}`;
        log(`demo receiver ✔ ${payload.event}${payload.test ? ' (test)' : ''} ${payload.draft.id} "${payload.draft.title}" ${detail} [${webhookId}]`);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ received: true }));
      } catch (error) {
        log(`demo receiver ✘ rejected an unverifiable request: ${(error as Error).message}`);
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'invalid signature' }));
      }
    });
  });
  const port = await new Promise<number>((resolve) =>
    server.listen(Number(process.env.PROCESSA_DEMO_RECEIVER_PORT ?? 0), '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
  return {
    url: `http://127.0.0.1:${port}/webhooks/processa`,
    events,
    setSecret: (secret) => (webhook = new Webhook(secret)),
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
