/**
 * A minimal Processa webhook receiver on plain node:http: raw body, verification, deduplication by
 * webhook-id, a quick 200, then the work. PROCESSA_WEBHOOK_SECRET may list several secrets, comma-
 * separated, while you rotate.
 */
import { createServer } from 'node:http';
import { verifyWebhookDelivery, WebhookVerificationError, type ProcessaWebhookEvent } from '../webhooks.js';

const secrets = (process.env.PROCESSA_WEBHOOK_SECRET ?? '').split(',').filter(Boolean);
// In memory for the example: it forgets on restart and is not shared between instances. A real
// receiver records ids in a store (a unique key in SQL, a conditional put in DynamoDB, SET NX in Redis).
const seen = new Set<string>();

async function handle(event: ProcessaWebhookEvent): Promise<void> {
  // Operational events (endpoint.disabled, delivery.exhausted) carry no draft: only endpoints that subscribe to them get them.
  if (!('draft' in event)) return void console.log(`${event.event}`, JSON.stringify(event));
  console.log(`${event.event} for draft ${event.draft.id}`); // execute or record the decision here
}

createServer(async (req, res) => {
  if (req.method !== 'POST') return void res.writeHead(405, { allow: 'POST' }).end();
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const { id, event } = verifyWebhookDelivery(Buffer.concat(chunks), req.headers, secrets);
    // Acknowledge first (Processa waits 10 s at most). Work that must survive a crash right here
    // belongs in a durable queue, enqueued before this line.
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
    if (seen.has(id)) return; // a retry of an event already handled: acknowledged, not redone
    seen.add(id);
    await handle(event).catch((error) => console.error(`webhook ${id} failed:`, error));
  } catch (error) {
    const forged = error instanceof WebhookVerificationError;
    res.writeHead(forged ? 400 : 500, { 'content-type': 'text/plain' }).end(forged ? error.message : 'error');
  }
}).listen(Number(process.env.PORT ?? 4000), () => console.log(`receiver listening on port ${process.env.PORT ?? 4000}`));
