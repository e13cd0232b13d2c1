/**
 * Drives code that waits on (fake) timers and on real asynchronous work at once, e.g. an SDK call
 * whose retries back off on timers while hashing runs on libuv's thread pool. Advancing fake time in a
 * fixed number of steps is not enough: on a busy machine the real work can still be pending when the
 * steps run out. So each step also yields to the real event loop, and the budget is real time.
 *
 * Captured at import, before any test installs fake timers.
 */
import { vi } from "vitest";

const realSetImmediate = setImmediate;
const realNow = performance.now.bind(performance);

export async function advanceUntil(done: () => boolean, { stepMs = 1_000, budgetMs = 30_000 } = {}): Promise<void> {
  const deadline = realNow() + budgetMs;
  while (!done()) {
    if (realNow() > deadline) throw new Error(`still pending after ${budgetMs} ms of real time`);
    await vi.advanceTimersByTimeAsync(stepMs);
    await new Promise<void>((resolve) => realSetImmediate(resolve));
  }
}
