/**
 * The one fake clock of the tests and the benchmarks: whatever models time for Batch (the Batch model's
 * jobs, listing lag and SIGKILL, the CLI's polls and sleeps, the orchestrator's backoff, the local runner's
 * timers, the benchmarks' simulated minutes) reads `now()` of one of these, and time moves only when
 * something sleeps, a test advances it, or {@link FakeClock.run} drives it.
 *
 * - `sleep(ms)` outside {@link FakeClock.run}: moves the clock at once by `ms` (firing the timers it passes)
 *   and records `ms` in {@link FakeClock.slept}, so a test can assert the waits a program chose;
 * - `setTimer(ms, fire)`: `fire` runs when the clock passes `now + ms` (timers due at the same time in the
 *   order they were set); returns the cancel;
 * - `run(main)`: a discrete-event simulation: `sleep` waits for the clock, and whenever nothing can run
 *   (every pending promise waits on the clock) time jumps to the next timer, so minutes of throttled
 *   submission run in milliseconds and many callers sleep side by side.
 */

interface Timer {
  at: number;
  seq: number;
  fire: () => void;
  /** Fired or cancelled. */
  done?: boolean;
}

const before = (a: Timer, b: Timer) => a.at < b.at || (a.at === b.at && a.seq < b.seq);

export class FakeClock {
  /** Each `sleep` outside {@link run}, in order. */
  readonly slept: number[] = [];
  private time: number;
  private heap: Timer[] = [];
  private seq = 0;
  private live = 0;
  private driving = false;

  constructor(start = 0) {
    this.time = start;
  }

  now = (): number => this.time;

  /** Puts the clock at `time` (a test's scene change); fires nothing. */
  set(time: number): void {
    this.time = time;
  }

  /** As new, at `time`: no timers, nothing slept (a clock one test file shares, before each test). */
  reset(time: number): void {
    this.time = time;
    this.slept.length = 0;
    this.heap = [];
    this.live = 0;
  }

  sleep = (ms: number): Promise<void> => {
    if (this.driving) return new Promise((resolve) => void this.schedule(ms, resolve));
    this.slept.push(ms);
    this.advance(ms);
    return Promise.resolve();
  };

  setTimer = (ms: number, fire: () => void): (() => void) => {
    const timer = this.schedule(ms, fire);
    return () => {
      if (timer.done) return;
      timer.done = true;
      this.live--;
    };
  };

  /** Timers set and neither fired nor cancelled. */
  get pending(): number {
    return this.live;
  }

  /** Moves the clock `ms` on, firing the timers it passes, in order. */
  advance(ms: number): void {
    const until = this.time + Math.max(0, ms);
    for (let next = this.peek(); next && next.at <= until; next = this.peek()) {
      this.take();
      this.time = next.at;
      next.fire();
    }
    this.time = until;
  }

  /**
   * Runs `main` to completion on simulated time. `busy` says when real asynchronous work the program awaits
   * is still out (a Web Crypto digest runs on libuv's thread pool, not as a microtask): time never advances
   * then, so the run is the same every time.
   */
  async run<T>(main: () => Promise<T>, busy: () => boolean = () => false): Promise<T> {
    this.driving = true;
    let settled = false;
    try {
      const result = main().finally(() => {
        settled = true;
      });
      while (!settled) {
        // setImmediate runs after the microtask queue drains: everything runnable has run.
        do await new Promise((r) => setImmediate(r));
        while (busy() && !settled);
        if (settled) break;
        const timer = this.peek();
        if (!timer) throw new Error("deadlock: nothing is waiting on the clock and the program has not finished");
        this.take();
        this.time = timer.at;
        timer.fire();
      }
      return await result;
    } finally {
      this.driving = false;
    }
  }

  private schedule(ms: number, fire: () => void): Timer {
    const timer: Timer = { at: this.time + Math.max(0, ms), seq: this.seq++, fire };
    this.live++;
    const h = this.heap;
    h.push(timer);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (before(h[p]!, h[i]!)) break;
      [h[p], h[i]] = [h[i]!, h[p]!];
      i = p;
    }
    return timer;
  }

  /** The next timer not cancelled (cancelled ones are dropped on the way). */
  private peek(): Timer | undefined {
    while (this.heap[0]?.done) this.pop();
    return this.heap[0];
  }

  /** Takes the next timer off to fire it. */
  private take(): void {
    this.pop()!.done = true;
    this.live--;
  }

  private pop(): Timer | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i]!, h[m]!];
        i = m;
      }
    }
    return top;
  }
}
