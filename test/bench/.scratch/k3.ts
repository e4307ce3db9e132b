import { runCost } from '../cost.js';
import { runWorker } from '../worker.js';
import { stopLocalStack } from '../local-stack.js';
import { parseOptions } from '../options.js';
const o = parseOptions(['--quick'], 'x');
if (process.env.W) { await runWorker(o, 1); await runWorker(o, 2); }
try { await runCost(o, 1); console.log('ok'); } catch (e: any) { console.log('ERR', e.message, (e.errors ?? []).map((x: any) => x?.stack ?? String(x)).slice(0, 2)); }
await stopLocalStack(); process.exit(0);
