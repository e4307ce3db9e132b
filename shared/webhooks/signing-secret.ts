import { randomBytes } from 'node:crypto';

// Apart from signing.ts: creating a secret needs only node:crypto, so the functions that create or
// rotate endpoints and channels but never sign do not bundle standardwebhooks (and its pure-JS SHA-256).
/** An endpoint signing secret: whsec_ + base64 of 24 random bytes, the Standard Webhooks format. */
export const generateSecret = (): string => `whsec_${randomBytes(24).toString('base64')}`;
