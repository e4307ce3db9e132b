/**
 * What `@smithy/core/event-streams` becomes in a deployed function's bundle (an esbuild alias,
 * infra/stacks/bundling.ts). The SDK loads it (a dynamic import in HttpProtocol) only for operations
 * with event streams; none of the operations Processa calls on DynamoDB, SQS, SES or SNS has one, so
 * the 15 KB codec would be dead weight. Should a future call need it, it fails loudly, here, and the
 * bundle test (test/integration/function-bundles.test.ts) runs real calls through the real bundles.
 */
const unavailable = (): never => {
  throw new Error('@smithy/core/event-streams is not bundled (infra/stacks/bundling.ts): no Processa SDK call streams events');
};

export class EventStreamSerde {
  constructor() {
    unavailable();
  }
}
export const eventStreamSerdeProvider = unavailable;
