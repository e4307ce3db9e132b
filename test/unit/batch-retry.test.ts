import { retryUnprocessed } from '../../shared/store/batch-retry.js';

const fast = { calls: 5, baseDelayMs: 1 };

describe('retrying unprocessed batch items', () => {
  it('resends only what came back unprocessed, until none is left', async () => {
    const calls: number[][] = [];
    const left = await retryUnprocessed(
      [1, 2, 3, 4],
      async (pending) => {
        calls.push([...pending]);
        return pending.filter((n) => n % 2 === 0 && calls.length < 3);
      },
      fast,
    );
    expect(left).toEqual([]);
    expect(calls).toEqual([
      [1, 2, 3, 4],
      [2, 4],
      [2, 4],
    ]);
  });

  it('gives up after the policy’s calls and returns what is still unprocessed', async () => {
    let calls = 0;
    const left = await retryUnprocessed(
      ['a', 'b'],
      async (pending) => {
        calls++;
        return pending.slice(1);
      },
      fast,
    );
    expect({ calls, left }).toEqual({ calls: 2, left: [] });
    let stubborn = 0;
    expect(await retryUnprocessed(['x'], async (pending) => (stubborn++, pending), fast)).toEqual(['x']);
    expect(stubborn).toBe(5);
  });

  it('makes no call for an empty batch', async () => {
    let calls = 0;
    expect(await retryUnprocessed([], async (p) => (calls++, p), fast)).toEqual([]);
    expect(calls).toBe(0);
  });
});
