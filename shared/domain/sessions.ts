import { createHash, randomBytes } from 'node:crypto';
import type { Role } from './roles.js';
import { hashKey, type ApiKeyStore } from './api-keys.js';
import type { Actor } from './draft.js';
import type { Decider } from './approvals.js';

/** A signed-in page visitor. The cookie holds a random token; the store keeps only its hash. */
export interface Session {
  id: string;
  actor: Actor;
  /** Hash of the API key that signed in (as the keys table stores it): every request re-checks that key. */
  keyHash: string;
  csrfToken: string;
  createdAt: string;
  expiresAtEpoch: number;
}

/** A session as resumed for one request: its actor is the key as it is now, groups included (never stored). */
export type ResumedSession = Session & { actor: Decider };

/**
 * An endpoint whose signing secret the next page view shows once (post/redirect/get). It holds no
 * secret: the page shows the endpoint's current one, so of rotations racing, the newest is shown.
 */
export interface Flash {
  endpointId: string;
  note: string;
}
export const FLASH_TTL_SECONDS = 120;

export interface SessionStore {
  /** Stores a flash on the session beside those of other endpoints, replacing an earlier one for the same endpoint. */
  setFlash(id: string, flash: Flash, expiresAtEpoch: number): Promise<void>;
  /**
   * Reads and removes the session's flash for one endpoint atomically, leaving those of other
   * endpoints (other tabs) in place; an expired one is ignored.
   */
  takeFlash(id: string, endpointId: string, now: Date): Promise<Flash | undefined>;
  put(session: Session): Promise<void>;
  get(id: string): Promise<Session | undefined>;
  delete(id: string): Promise<void>;
  /**
   * Takes one of `limit` slots of a counter that lives for windowSeconds from its first slot,
   * atomically: however many callers race, at most `limit` get a slot per window. Returns 0 when
   * a slot was taken, else the seconds until the window ends.
   */
  takeSlot(counterId: string, limit: number, windowSeconds: number, now: Date): Promise<number>;
  /** Gives a slot back (within the same window only). */
  returnSlot(counterId: string, now: Date): Promise<void>;
}

export const SESSION_TTL_SECONDS = 12 * 60 * 60;
/** Sign-in attempts a client may fail within the window before it must wait. */
export const SIGN_IN_FAILURE_LIMIT = 5;
const SIGN_IN_WINDOW_SECONDS = 15 * 60;
export const PAGE_ROLES: readonly Role[] = ['reviewer', 'admin'];

const token = () => randomBytes(32).toString('base64url');
export const sessionIdOf = (cookieToken: string): string => `s#${createHash('sha256').update(cookieToken).digest('hex')}`;
const throttleId = (client: string) => `rl#${createHash('sha256').update(client).digest('hex')}`;

export async function startSession(
  store: SessionStore,
  actor: Actor,
  presentedKey: string,
  now = new Date(),
): Promise<{ cookieToken: string; session: Session }> {
  const cookieToken = token();
  const session: Session = {
    id: sessionIdOf(cookieToken),
    actor,
    keyHash: hashKey(presentedKey),
    csrfToken: token(),
    createdAt: now.toISOString(),
    expiresAtEpoch: Math.floor(now.getTime() / 1000) + SESSION_TTL_SECONDS,
  };
  await store.put(session);
  return { cookieToken, session };
}

/**
 * The live session for a cookie token, or undefined. A session lives only as long as the key that
 * opened it: every request re-reads that key (consistently), so revoking it, or the key losing its
 * page role, signs the session out on its very next request, and the session is deleted. TTL
 * deletion is lazy, so expiry is checked here too. The actor comes from the key as it is now.
 */
export async function resumeSession(
  store: SessionStore,
  keys: ApiKeyStore,
  cookieToken: string | undefined,
  now = new Date(),
): Promise<ResumedSession | undefined> {
  if (!cookieToken || !/^[A-Za-z0-9_-]{20,100}$/.test(cookieToken)) return undefined;
  const session = await store.get(sessionIdOf(cookieToken));
  if (!session || session.expiresAtEpoch * 1000 <= now.getTime()) return undefined;
  // Sessions from before keyHash was recorded cannot be re-checked: they end too.
  const key = typeof session.keyHash === 'string' ? await keys.findByHash(session.keyHash) : undefined;
  if (!key || key.revokedAt || !PAGE_ROLES.includes(key.role)) {
    await store.delete(session.id);
    return undefined;
  }
  return { ...session, actor: { keyId: key.id, name: key.name, role: key.role, ...(key.groups?.length ? { groups: key.groups } : {}) } };
}

/**
 * Claims the right to evaluate one presented key for this client before it is evaluated, so
 * parallel guesses cannot all pass a check made before any of them failed: at most
 * SIGN_IN_FAILURE_LIMIT keys are evaluated per client per window. Returns 0 to go ahead, else the
 * seconds the client must wait. A successful sign-in gives its claim back, so only failures count.
 */
export const claimSignInAttempt = (store: SessionStore, client: string, now = new Date()): Promise<number> =>
  store.takeSlot(throttleId(client), SIGN_IN_FAILURE_LIMIT, SIGN_IN_WINDOW_SECONDS, now);

export const returnSignInAttempt = (store: SessionStore, client: string, now = new Date()): Promise<void> => store.returnSlot(throttleId(client), now);
