/**
 * A webhook receiver that sends approved emails and logs rejections.
 *   PROCESSA_WEBHOOK_SECRET=whsec_… PORT=4000 npx tsx shared/client/examples/receiver.ts
 */
import { createServer } from 'node:http';
import { verifyWebhookDelivery, WebhookVerificationError } from '../webhooks.js';

const secret = process.env.PROCESSA_WEBHOOK_SECRET ?? '';
const handled = new Set<string>(); // webhook-ids already acted on; keep them in a database in production

createServer(async (req, res) => {
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const { id, event } = verifyWebhookDelivery(Buffer.concat(chunks), req.headers, secret);
    if (!handled.has(id)) {
      if (event.event === 'draft.approved' && event.test) {
        // A sample approval sent with {"event":"draft.approved"}: acknowledge it, act on nothing.
        console.log(`[test event] would send email for draft ${event.draft.id}; not executed`);
      } else if (event.event === 'draft.approved') {
        const { to, subject } = event.draft.content as { to: string; subject: string };
        console.log(`sending email to ${to}: ${subject}`);
      } else if (event.event === 'draft.rejected') {
        console.log(`draft ${event.draft.id} rejected: ${event.draft.rejectionReason ?? 'no reason given'}`);
      }
      handled.add(id); // after the action: if it threw, Processa's retry gets another chance
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
  } catch (error) {
    res.writeHead(error instanceof WebhookVerificationError ? 400 : 500).end();
    if (!(error instanceof WebhookVerificationError)) console.error(error);
  }
}).listen(Number(process.env.PORT ?? 4000), () => console.log(`receiver listening on port ${process.env.PORT ?? 4000}`));
