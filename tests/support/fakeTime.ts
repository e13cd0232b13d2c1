/**
 * Drives code that waits on (fake) timers and on real asynchronous work at once, e.g. an SDK call
 * whose retries back off on timers while hashing runs on libuv's thread pool. Advancing fake time in a
 * fixed number of steps is not enough: on a busy machine the real work can still be pending when the
 * steps run out. So each step also yields to the real event loop; real time bounds the wait, and fake
 * time is capped so that a runaway backoff still fails the test.
 *
 * The real `setImmediate` and clock are captured at import, so import this before installing fake timers.
 */
import { vi } from "vitest";

if (vi.isFakeTimers()) throw new Error("import tests/support/fakeTime before installing fake timers");
const realSetImmediate = setImmediate;
const realNow = performance.now.bind(performance);

export async function advanceUntil(done: () => boolean, { stepMs = 1_000, maxFakeMs = 300_000, budgetMs = 30_000 } = {}): Promise<void> {
  const deadline = realNow() + budgetMs;
  let advanced = 0;
  while (!done()) {
    if (advanced >= maxFakeMs) throw new Error(`still pending after ${maxFakeMs} ms of fake time`);
    if (realNow() > deadline) throw new Error(`still pending after ${budgetMs} ms of real time`);
    await vi.advanceTimersByTimeAsync(stepMs);
    advanced += stepMs;
    await new Promise<void>((resolve) => realSetImmediate(resolve));
  }
}
