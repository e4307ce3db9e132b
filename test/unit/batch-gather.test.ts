import { jest } from '@jest/globals';
import { gatherOnce } from '../../shared/webhooks/batch-gather.js';

describe("gatherOnce: one call for what a batch's deliveries give", () => {
  it("flushes once, when every participant gave or was done, and every giver gets that call's result", async () => {
    const flushed: number[][] = [];
    const gather = gatherOnce(3, async (items: number[]) => (flushed.push([...items]), items.length));
    const [a, b, c] = [gather.participant(), gather.participant(), gather.participant()];
    const fromA = a.give(1);
    const fromC = c.give(3);
    await Promise.resolve();
    expect(flushed).toEqual([]);
    b.done();
    expect(await fromA).toBe(2);
    expect(await fromC).toBe(2);
    expect(await gather.result).toBe(2);
    expect(flushed).toEqual([[1, 3]]);
    // done() after give() changes nothing; a second give is a bug.
    a.done();
    expect(() => a.give(4)).toThrow();
    expect(flushed).toHaveLength(1);
  });

  it('nothing given: no call, settles with undefined; no participants: settled at once', async () => {
    const flush = jest.fn(async (_items: string[]) => 1);
    const gather = gatherOnce(2, flush);
    gather.participant().done();
    gather.participant().done();
    expect(await gather.result).toBeUndefined();
    expect(flush).not.toHaveBeenCalled();
    expect(await gatherOnce(0, flush).result).toBeUndefined();
  });

  it('a failed call reaches the givers, and nobody else as an unhandled rejection', async () => {
    const gather = gatherOnce(1, async () => {
      throw new Error('store down');
    });
    await expect(gather.participant().give('x')).rejects.toThrow('store down');
  });
});
