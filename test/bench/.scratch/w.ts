import { runWorker } from '../worker.js';
import { stopLocalStack } from '../local-stack.js';
import { parseOptions } from '../options.js';
const o = parseOptions(['--n', '2000'], 'x');
for (let i = 1; i <= 2; i++) console.log(JSON.stringify(await runWorker(o, i), null, 1));
await stopLocalStack();
