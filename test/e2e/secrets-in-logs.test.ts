import { apiClient, startDevRuntime, type DevRuntime } from '../support/dev-runtime.js';
import { eventually, startReceiver } from '../support/receiver.js';

let runtime: DevRuntime;
afterAll(async () => {
  await runtime?.stop();
});

describe('webhook secrets', () => {
  it('never appear in the logs, even at DEBUG, across creation, delivery, retries and rotation', async () => {
    runtime = await startDevRuntime({ env: { POWERTOOLS_LOG_LEVEL: 'DEBUG', PROCESSA_RETRY_BASE_SECONDS: '1' } });
    const admin = apiClient(runtime.url, runtime.adminKey);
    const ok = await startReceiver('ok');
    const failing = await startReceiver('fail');
    try {
      const secrets: string[] = [];
      const endpoints: string[] = [];
      for (const receiver of [ok, failing]) {
        const created = await admin('POST', '/v1/webhooks', { url: receiver.url });
        secrets.push(created.body.secret);
        endpoints.push(created.body.id);
      }
      const rotated = await admin('POST', `/v1/webhooks/${endpoints[0]}/rotate-secret`);
      secrets.push(rotated.body.secret);
      const { body: draft } = await admin('POST', '/v1/drafts', { title: 'log check', content: { a: 1 } });
      await admin('POST', `/v1/drafts/${draft.id}/approve`, {});
      await eventually(() => ok.requests.length > 0 && failing.requests.length >= 2, 20_000, 'deliveries and a retry');

      // The structured log lines (the startup banner prints the dev admin key on purpose).
      const logs = runtime
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .join('\n');
      expect(logs).toMatch(/"level":"DEBUG","message":"webhook delivered"/); // the logs were really captured
      expect(logs).toContain(draft.id);
      for (const secret of secrets) {
        expect(logs).not.toContain(secret);
        expect(logs).not.toContain(secret.slice('whsec_'.length));
      }
      expect(logs).not.toContain(runtime.adminKey);
    } finally {
      await Promise.all([ok.stop(), failing.stop()]);
    }
  }, 60_000);
});
