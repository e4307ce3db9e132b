import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { tables } from '../../infra/app-definition.js';
import { DynamoBreakerStore } from '../../shared/store/breaker-store.js';
import { createDocumentClient } from '../../shared/store/dynamo-client.js';
import { breakerState, CLOSED } from '../../shared/webhooks/circuit-breaker.js';

const store = new DynamoBreakerStore(createDocumentClient(new DynamoDBClient({})), process.env[tables.deliveries.envVar]!);
const unique = () => `ep_breaker${Math.random().toString(36).slice(2, 10)}`;
const now = new Date('2026-02-10T12:00:00.000Z');
const at = (seconds: number) => new Date(now.getTime() + seconds * 1000);

describe('the circuit breaker store against DynamoDB Local', () => {
  it('counts 25 parallel failures exactly; of 25 parallel opens, one wins', async () => {
    const id = unique();
    await Promise.all(Array.from({ length: 25 }, () => store.recordFailure(id)));
    expect((await store.get(id))?.consecutiveFailures).toBe(25);
    const opened = await Promise.all(Array.from({ length: 25 }, () => store.open(id, now, at(30).toISOString(), 5)));
    expect(opened.filter(Boolean)).toHaveLength(1);
    expect(breakerState(await store.get(id), now)).toBe('open');
  });

  it('does not open below the threshold', async () => {
    const id = unique();
    await store.recordFailure(id);
    expect(await store.open(id, now, at(30).toISOString(), 5)).toBe(false);
    expect(breakerState(await store.get(id), now)).toBe('closed');
  });

  it('half-open: of 20 parallel probe claims exactly one wins; none while open; another after the lease', async () => {
    const id = unique();
    for (let i = 0; i < 5; i++) await store.recordFailure(id);
    expect(await store.open(id, now, at(30).toISOString(), 5)).toBe(true);
    expect(await store.claimProbe(id, at(10), at(25).toISOString())).toBe(false);
    const claims = await Promise.all(Array.from({ length: 20 }, () => store.claimProbe(id, at(31), at(46).toISOString())));
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await store.claimProbe(id, at(40), at(55).toISOString())).toBe(false);
    expect(await store.claimProbe(id, at(47), at(62).toISOString())).toBe(true);
    // The probe failed: it reopens (a half-open breaker is not "open already").
    await store.recordFailure(id);
    expect(await store.open(id, at(48), at(78).toISOString(), 5)).toBe(true);
    expect((await store.get(id))?.probeUntil).toBeNull();
    // A success closes it.
    await store.recordSuccess(id);
    expect(await store.get(id)).toEqual(CLOSED);
  });
});
