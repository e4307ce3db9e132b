import { runCost } from '../cost.js';
import { runWorker } from '../worker.js';
import { stopLocalStack } from '../local-stack.js';
import { parseOptions } from '../options.js';
const o = parseOptions(['--quick', '--runs', '2'], 'x');
await runWorker(o, 1); await runWorker(o, 2);
for (let i = 1; i <= 8; i++) {
try { await runCost(o, i); console.log('ok', i); } catch (e: any) { console.log('ERR', e.message, (e.errors ?? []).map((x: any) => x?.stack ?? String(x)).slice(0, 2)); }
}
await stopLocalStack(); process.exit(0);
