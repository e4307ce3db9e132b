/**
 * What `@aws-sdk/credential-provider-node` becomes in a deployed function's bundle (an esbuild alias,
 * infra/stacks/bundling.ts). Lambda hands a function its role's credentials in environment variables, the
 * first place the SDK's default chain looks; the rest of that chain (SSO, STS web identity, ini files,
 * credential processes, container and instance metadata) and the nested clients it needs can never
 * answer there, so they are left out of the bundle. The local runtime and the CLIs import the real chain.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

/** The default chain as the SDK clients call it (`credentialDefaultProvider(config)`), reduced to the environment. */
export const defaultProvider = (init?: Parameters<typeof fromEnv>[0]) => fromEnv(init);
