import { localStack, stopLocalStack } from '../local-stack.js';
import { runCost } from '../cost.js';
import { parseOptions } from '../options.js';
const stack = await localStack();
const orig = stack.output.stop;
const seen: string[] = [];
const ow = process.stdout.write; const ew = process.stderr.write;
// wrap after the meter: record text when capturing
const wrap = (w: any) => function (this: any, c: any, ...r: any[]) { seen.push(String(c)); return w.call(this, c, ...r); };
process.stdout.write = wrap(ow) as any; process.stderr.write = wrap(ew) as any;
await runCost(parseOptions(['--quick'], 'x'), 1);
process.stdout.write = ow; process.stderr.write = ew;
const uniq = new Map<string, number>();
for (const s of seen) { const k = s.replace(/[0-9a-f-]{36}/g, 'U').replace(/\d+/g, 'N').slice(0, 400); uniq.set(k, (uniq.get(k) ?? 0) + 1); }
for (const [k, v] of uniq) if (!k.includes('\r')) console.log(v, k);
await stopLocalStack(); process.exit(0);
