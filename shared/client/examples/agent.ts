/**
 * An agent that asks a person before sending an email, and waits for the answer.
 *   PROCESSA_URL=http://localhost:3000 PROCESSA_API_KEY=prk_… npx tsx shared/client/examples/agent.ts
 */
import { DecisionTimeoutError, ProcessaClient } from '../index.js';

const processa = new ProcessaClient({ baseUrl: process.env.PROCESSA_URL ?? 'http://localhost:3000', apiKey: process.env.PROCESSA_API_KEY ?? '' });

const email = { to: 'user@example.com', subject: 'Welcome!', body: 'Hello...' };
// Retries of this call cannot file two drafts (it sends an Idempotency-Key); pass your own
// { idempotencyKey: taskId } as a second argument to also cover restarts of the agent.
const draft = await processa.createDraft({ title: `Send welcome email to ${email.to}`, content: email, metadata: { source: 'ai_agent_v1' } });
console.log(`Draft ${draft.id} is waiting for review: ${draft.reviewUrl}`);

try {
  const decided = await processa.waitForDecision(draft.id, { timeoutMs: 60 * 60_000 });
  if (decided.status === 'approved') {
    // The receiver (see receiver.ts) executes it; the content may have been edited by the reviewer.
    console.log(`Approved by ${decided.reviewedBy?.name}:`, JSON.stringify(decided.content));
  } else if (decided.status === 'rejected') {
    console.log(`Rejected by ${decided.reviewedBy?.name}: ${decided.rejectionReason ?? 'no reason given'}`);
  } else {
    console.log(`Draft ${decided.status} before anyone decided`);
  }
} catch (error) {
  if (!(error instanceof DecisionTimeoutError)) throw error;
  console.log(`No decision within the hour; it is still pending at ${draft.reviewUrl}`);
}
