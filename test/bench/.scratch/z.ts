import { build } from 'esbuild';
import { STACK_BUNDLING } from '../coldstart.js';
const r = await build({ ...STACK_BUNDLING, mainFields: ['module','main'], external: [], entryPoints: ['functions/deliver-webhooks/handler.ts'], outfile: '/tmp/bx/d/index.mjs', metafile: true, logLevel: 'silent' });
const out = Object.values(r.metafile.outputs).find((o) => o.entryPoint)!;
const groups = new Map<string, number>();
for (const [p, { bytesInOutput }] of Object.entries(out.inputs)) { if (!p.includes('zod')) continue; const k = p.replace(/.*node_modules\/zod\//, '').split('/').slice(0, 4).join('/'); groups.set(k, (groups.get(k) ?? 0) + bytesInOutput); }
for (const [k, v] of [...groups].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(v, k);
console.log(Object.keys(out.inputs).filter(p=>p.includes('zod/v4/locales')).length, 'locale files');
let loc = 0, core = 0; for (const [p, { bytesInOutput }] of Object.entries(out.inputs)) { if (p.includes('zod/v4/locales')) loc += bytesInOutput; else if (p.includes('zod')) core += bytesInOutput; }
console.log('locales', loc, 'rest of zod', core);
