import type { Server } from 'node:http';
import { createSqsServer } from 'local-aws-sqs';
import { freePort } from './ports.js';

export interface LocalSqs {
  endpoint: string;
  stop(): Promise<void>;
}

/** The in-process SQS emulator, on loopback. Queues are created from the definition by provisionQueues. */
export async function startLocalSqs(port?: number): Promise<LocalSqs> {
  const chosen = port ?? (await freePort());
  const server: Server = await createSqsServer({ port: chosen, hostname: '127.0.0.1', emulateQueueCreationLifecycle: false });
  return {
    endpoint: `http://127.0.0.1:${chosen}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
