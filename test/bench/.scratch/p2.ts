import { execSync } from 'node:child_process';
import { Pool } from 'undici';
import { apiClient, startDevRuntime } from '../../support/dev-runtime.js';
const t0 = performance.now();
const rt = await startDevRuntime({ env: { PROCESSA_RETRY_BASE_SECONDS: '1' } });
console.log('startup', performance.now() - t0);
const origin = rt.url.replace('//localhost:', '//127.0.0.1:');
const admin = apiClient(origin, rt.adminKey);
const agent = (await admin('POST', '/v1/keys', { role: 'agent', name: 'a' })).body.key;
const pool = new Pool(origin, { connections: Number(process.env.C ?? 20) });
const info = rt.info();
const sample = () => console.log(execSync(`ps -o pid,pcpu,rss,etime,comm -p ${info.pid},${info.dynamodbPid},${rt.process.pid} ; ps -eo pid,pcpu,comm --sort=-pcpu | head -5`).toString());
let next = 0; const N = 400; const lat: number[] = [];
const t1 = performance.now();
const timer = setInterval(sample, 3000);
await Promise.all(Array.from({ length: Number(process.env.C ?? 20) }, async () => {
  while (next < N) { next++; const s = performance.now();
    const r = await pool.request({ path: '/v1/drafts', method: 'POST', headers: { authorization: `Bearer ${agent}`, 'content-type': 'application/json' }, body: JSON.stringify({ title: 't', content: { a: 1 } }) });
    await r.body.dump(); lat.push(performance.now() - s); }
}));
clearInterval(timer);
const secs = (performance.now() - t1) / 1000;
lat.sort((a, b) => a - b);
console.log('creates/s', N / secs, 'p50', lat[lat.length >> 1]);
await pool.close();
const t2 = performance.now();
console.log('stop code', await rt.stop(), 'stop ms', performance.now() - t2);
