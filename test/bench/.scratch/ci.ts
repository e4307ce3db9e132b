import { buildBundles, dummyEnv } from '../coldstart.js';
import { spawnSync } from 'node:child_process';
const b = await buildBundles();
for (const fn of ['deliverWebhooks', 'describeApi']) {
  const r = spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir=/tmp/bx/cpuprof-' + fn, '--cpu-prof-interval=100', b.timer, b.path(fn, 'zodNamespace')], { env: { PATH: process.env.PATH!, ...dummyEnv() }, encoding: 'utf8' });
  console.log(fn, r.stdout, r.stderr.slice(0, 300));
}
b.cleanup();
