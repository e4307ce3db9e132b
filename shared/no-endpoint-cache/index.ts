/**
 * What `@aws-sdk/endpoint-cache` becomes in a deployed function's bundle (an esbuild alias,
 * infra/stacks/bundling.ts). The DynamoDB client builds an endpoint cache for endpoint discovery, but
 * none of its commands adds the discovery middleware that would read or fill it, so the cache and the
 * LRU library under it (mnemonist, obliterator: 8 KB) are dead weight. Any use fails loudly, and the
 * bundle test (test/integration/function-bundles.test.ts) runs real DynamoDB calls through the bundles.
 */
const unavailable = (): never => {
  throw new Error('@aws-sdk/endpoint-cache is not bundled (infra/stacks/bundling.ts): DynamoDB endpoint discovery is not used');
};

export class EndpointCache {
  getEndpoint = unavailable;
  get = unavailable;
  set = unavailable;
  delete = unavailable;
  has = unavailable;
  clear = unavailable;
}
