/**
 * Gathers what a batch's concurrent deliveries contribute, each at most once, and hands it all on
 * in one call as soon as every expected participant has given its part or said it has none (so
 * nobody waits on a delivery that will never give). Each giver gets the one call's result.
 * Made per invocation (per batch and key), never at module scope.
 */
export function gatherOnce<T, R>(expected: number, flush: (items: T[]) => Promise<R>) {
  const items: T[] = [];
  let settled = 0;
  let resolve!: (value: R | undefined) => void;
  let reject!: (error: unknown) => void;
  const result = new Promise<R | undefined>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A flush error reaches the givers that await it; nobody else must see it as unhandled.
  result.catch(() => undefined);
  if (expected <= 0) resolve(undefined);
  const settle = () => {
    settled++;
    if (settled < expected) return;
    if (items.length === 0) resolve(undefined);
    else flush(items).then(resolve, reject);
  };
  return {
    /** Settles with the one call's result (undefined when nothing was given), once every participant gave or was done. */
    result,
    /** One participant's handle: give() at most once, or done() to say there is nothing (idempotent, a no-op after give()). */
    participant() {
      let finished = false;
      return {
        give(item: T): Promise<R | undefined> {
          if (finished) throw new Error('gatherOnce: a participant gives once');
          finished = true;
          items.push(item);
          settle();
          return result;
        },
        done(): void {
          if (finished) return;
          finished = true;
          settle();
        },
      };
    },
  };
}
