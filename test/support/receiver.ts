import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';

export interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export type ReceiverMode = 'ok' | 'fail' | 'hang' | 'redirect' | 'drop-mid-response';

/** A webhook receiver on loopback whose answer a test can switch: 200, 500, never, or a redirect. */
export async function startReceiver(initial: ReceiverMode = 'ok') {
  let mode = initial;
  const requests: ReceivedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      if (mode === 'hang') return;
      if (mode === 'drop-mid-response') {
        // Headers and half a body, then the connection dies.
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        res.write('{"recei');
        setTimeout(() => req.socket.destroy(), 20);
        return;
      }
      if (mode === 'redirect') {
        res.writeHead(307, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
        return;
      }
      res.writeHead(mode === 'ok' ? 200 : 500, { 'content-type': 'application/json' });
      res.end(JSON.stringify(mode === 'ok' ? { received: true } : { error: 'receiver is down' }));
    });
  });
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
  return {
    url: `http://127.0.0.1:${port}/webhooks/processa`,
    requests,
    setMode: (next: ReceiverMode) => (mode = next),
    /** Requests for one event, by its webhook-id. */
    forEvent: (webhookId: string) => requests.filter((r) => r.headers['webhook-id'] === webhookId),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Polls until `check` returns a truthy value or the timeout passes. */
export type Truthy<T> = Exclude<T, false | null | undefined | 0 | ''>;

export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 20_000, what = 'condition'): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await check();
    if (last) return last as Truthy<T>;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
}
