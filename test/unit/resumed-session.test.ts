import { describe, expect, it } from '@jest/globals';
import { createApiKey, revokeApiKey, updateApiKey } from '../../shared/domain/api-keys.js';
import { resumeSession, startSession, type Session, type SessionStore } from '../../shared/domain/sessions.js';
import { MemoryApiKeyStore } from '../support/memory-stores.js';

/** Just the session reads and writes resumeSession uses. */
class MemorySessions implements Pick<SessionStore, 'get' | 'put' | 'delete'> {
  readonly items = new Map<string, Session>();
  async get(id: string) {
    return this.items.get(id);
  }
  async put(session: Session) {
    this.items.set(session.id, session);
  }
  async delete(id: string) {
    this.items.delete(id);
  }
}

async function signedIn(groups?: string[]) {
  const keys = new MemoryApiKeyStore();
  const sessions = new MemorySessions();
  const created = await createApiKey(keys, { role: 'reviewer', name: 'ana', ...(groups ? { groups } : {}) }, null);
  const { cookieToken } = await startSession(sessions as unknown as SessionStore, { keyId: created.id, name: 'ana', role: 'reviewer' }, created.key);
  const resume = () => resumeSession(sessions as unknown as SessionStore, keys, cookieToken);
  return { keys, sessions, created, resume };
}

describe('resumeSession: the actor is the key as it is now', () => {
  it("carries the key's groups, so pages decide assignment without reading the key again", async () => {
    const { resume, created } = await signedIn(['finance']);
    expect((await resume())?.actor).toEqual({ keyId: created.id, name: 'ana', role: 'reviewer', groups: ['finance'] });
  });

  it('follows group changes made after sign-in, and stores none of them with the session', async () => {
    const { resume, keys, sessions, created } = await signedIn(['finance']);
    await updateApiKey(keys, created.id, { groups: ['legal'] });
    expect((await resume())?.actor.groups).toEqual(['legal']);
    await updateApiKey(keys, created.id, { groups: [] });
    expect((await resume())?.actor).not.toHaveProperty('groups');
    expect([...sessions.items.values()].every((s) => !('groups' in s.actor))).toBe(true);
  });

  it('ends with the key: a revoked key resumes nothing and its session is deleted', async () => {
    const { resume, keys, sessions, created } = await signedIn(['finance']);
    await revokeApiKey(keys, created.id);
    expect(await resume()).toBeUndefined();
    expect(sessions.items.size).toBe(0);
  });
});
