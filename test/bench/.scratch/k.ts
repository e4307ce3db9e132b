import { runCost, costModel } from '../cost.js';
import { stopLocalStack } from '../local-stack.js';
import { parseOptions } from '../options.js';
const o = parseOptions(['--quick'], 'x');
const r = await runCost(o, 1);
console.log(JSON.stringify(r, null, 1));
console.log(JSON.stringify(costModel(r), null, 1));
await stopLocalStack();
process.exit(0);
