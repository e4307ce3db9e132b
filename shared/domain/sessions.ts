import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Role } from '../../infra/app-definition.js';
import type { Actor } from './draft.js';

/** A signed-in page visitor. The cookie holds a random token; the store keeps only its hash. */
export interface Session {
  id: string;
  actor: Actor;
  csrfToken: string;
  createdAt: string;
  expiresAtEpoch: number;
}

/** Something to show once on the next page view (post/redirect/get), e.g. a new signing secret. */
export interface Flash {
  endpointId: string;
  secret: string;
  note: string;
}
export const FLASH_TTL_SECONDS = 120;

export interface SessionStore {
  /** Stores a flash on the session, replacing any earlier one. */
  setFlash(id: string, flash: Flash, expiresAtEpoch: number): Promise<void>;
  /** Reads and removes the session's flash atomically; expired flashes are ignored. */
  takeFlash(id: string, now: Date): Promise<Flash | undefined>;
  put(session: Session): Promise<void>;
  get(id: string): Promise<Session | undefined>;
  delete(id: string): Promise<void>;
  /** Adds one to a counter that lives for windowSeconds from its first hit; returns the new count. */
  hit(counterId: string, windowSeconds: number, now: Date): Promise<number>;
  count(counterId: string, now: Date): Promise<number>;
}

export const SESSION_TTL_SECONDS = 12 * 60 * 60;
/** Sign-in attempts a client may fail within the window before it must wait. */
export const SIGN_IN_FAILURE_LIMIT = 5;
export const SIGN_IN_WINDOW_SECONDS = 15 * 60;
export const PAGE_ROLES: readonly Role[] = ['reviewer', 'admin'];

const token = () => randomBytes(32).toString('base64url');
export const sessionIdOf = (cookieToken: string): string => `s#${createHash('sha256').update(cookieToken).digest('hex')}`;
const throttleId = (client: string) => `rl#${createHash('sha256').update(client).digest('hex')}`;

export async function startSession(store: SessionStore, actor: Actor, now = new Date()): Promise<{ cookieToken: string; session: Session }> {
  const cookieToken = token();
  const session: Session = {
    id: sessionIdOf(cookieToken),
    actor,
    csrfToken: token(),
    createdAt: now.toISOString(),
    expiresAtEpoch: Math.floor(now.getTime() / 1000) + SESSION_TTL_SECONDS,
  };
  await store.put(session);
  return { cookieToken, session };
}

/** The live session for a cookie token, or undefined (TTL deletion is lazy, so expiry is checked here too). */
export async function resumeSession(store: SessionStore, cookieToken: string | undefined, now = new Date()): Promise<Session | undefined> {
  if (!cookieToken || !/^[A-Za-z0-9_-]{20,100}$/.test(cookieToken)) return undefined;
  const session = await store.get(sessionIdOf(cookieToken));
  if (!session || session.expiresAtEpoch * 1000 <= now.getTime()) return undefined;
  return session;
}

export function tokensMatch(expected: string, presented: unknown): boolean {
  if (typeof presented !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Seconds the client must wait before trying again, or 0. */
export async function signInWait(store: SessionStore, client: string, now = new Date()): Promise<number> {
  return (await store.count(throttleId(client), now)) >= SIGN_IN_FAILURE_LIMIT ? SIGN_IN_WINDOW_SECONDS : 0;
}

export const recordSignInFailure = (store: SessionStore, client: string, now = new Date()) => store.hit(throttleId(client), SIGN_IN_WINDOW_SECONDS, now);
