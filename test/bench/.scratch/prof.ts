import { localStack, stopLocalStack } from '../local-stack.js';
import { deliveryHandler, sqsRecord } from '../worker.js';
import { deliveryMessage } from '../../../shared/webhooks/delivery-message.js';
import { testEvent } from '../../../shared/webhooks/events.js';
import { lambdaContext } from '../../../infra/local/lambda-context.js';
const stack = await localStack();
const deliver = await deliveryHandler();
const run = async (n: number) => {
  const msgs = Array.from({ length: n }, () => deliveryMessage(testEvent(), stack.endpointId));
  let next = 0; const t = performance.now();
  stack.output.start();
  await Promise.all(Array.from({ length: 5 }, async () => { while (next < n) { const b = msgs.slice(next, next + 10).map((m) => sqsRecord(m)); next += 10; await deliver({ Records: b }, lambdaContext('deliverWebhooks')); } }));
  stack.output.stop();
  return n / ((performance.now() - t) / 1000);
};
await run(500);
stack.calls.stubDeliveryStore = true;
await run(2000);
const { Session } = await import('node:inspector/promises');
const s = new Session(); s.connect();
await s.post('Profiler.enable'); await s.post('Profiler.start');
console.error('rate', await run(10000));
const { profile } = await s.post('Profiler.stop') as any;
const self = new Map<string, number>();
const byId = new Map(profile.nodes.map((n: any) => [n.id, n]));
const dt = profile.timeDeltas; const samples = profile.samples;
for (let i = 0; i < samples.length; i++) { const n: any = byId.get(samples[i]); const k = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/.*node_modules\//, 'nm/').replace(/.*\/main\//, '')}:${n.callFrame.lineNumber}`; self.set(k, (self.get(k) ?? 0) + dt[i]); }
const total = [...self.values()].reduce((a, b) => a + b, 0);
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.error((v / total * 100).toFixed(1).padStart(5), k);
// by package
const pk = new Map<string, number>();
for (const [k, v] of self) { const m = k.match(/nm\/((@[^/]+\/)?[^/]+)/); const key = m ? m[1] : (k.includes('node:') ? 'node:' + (k.match(/node:([^ :]+)/)?.[1] ?? '') : k.includes('shared/') || k.includes('functions/') ? 'app' : k.split(' ')[0]); pk.set(key!, (pk.get(key!) ?? 0) + v); }
for (const [k, v] of [...pk].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.error('PKG', (v / total * 100).toFixed(1).padStart(5), k);
await stopLocalStack();
process.exit(0);
