import { runPipeline } from '../pipeline.js';
import { parseOptions } from '../options.js';
const o = parseOptions(['--quick', '--n', '300'], 'x');
const r = await runPipeline(o, 1);
console.log(JSON.stringify(r, null, 1));
