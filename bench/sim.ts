/**
 * A simulated clock and an in-process Batch stub for the benchmark: time only advances when every
 * pending promise is waiting on the clock, so minutes of throttled submission run in milliseconds.
 */
import { DescribeJobsCommand, type JobStatus, ListJobsCommand, SubmitJobCommand, TerminateJobCommand } from "@aws-sdk/client-batch";
import { jobNameFilterMatches, jobNameFilterOf, listPage, newestFirst, tooManyRequests } from "../tests/support/batchSemantics";
import type { BatchApi } from "../batch/calls";

interface Timer {
  at: number;
  seq: number;
  resolve: () => void;
}

/** Discrete-event clock: `sleep` schedules, `run` advances to the next timer whenever the program is idle. */
export class VirtualClock {
  now = 0;
  private heap: Timer[] = [];
  private seq = 0;

  sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      this.push({ at: this.now + Math.max(0, ms), seq: this.seq++, resolve });
    });

  /**
   * Runs `main` to completion on simulated time. `busy` says when real asynchronous work the program awaits
   * is still out (a Web Crypto digest runs on libuv's thread pool, not as a microtask): time never advances
   * then, so the run is the same every time.
   */
  async run<T>(main: () => Promise<T>, busy: () => boolean = () => false): Promise<T> {
    let settled = false;
    const result = main().finally(() => {
      settled = true;
    });
    while (!settled) {
      // setImmediate runs after the microtask queue drains: everything runnable has run.
      do await new Promise((r) => setImmediate(r));
      while (busy() && !settled);
      if (settled) break;
      const timer = this.pop();
      if (!timer) throw new Error("deadlock: nothing is waiting on the clock and the program has not finished");
      this.now = timer.at;
      timer.resolve();
    }
    return result;
  }

  private push(t: Timer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (before(h[p], h[i])) break;
      [h[p], h[i]] = [h[i], h[p]];
      i = p;
    }
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
        if (l < h.length && before(h[l], h[m])) m = l;
        if (r < h.length && before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i], h[m]];
        i = m;
      }
    }
    return top;
  }
}

const before = (a: Timer, b: Timer) => a.at < b.at || (a.at === b.at && a.seq < b.seq);

/** Options of {@link BatchStub}. */
export interface BatchStubOptions {
  /** @default 50 (Batch's SubmitJob limit per account) */
  submitJobsPerSecond?: number;
  /** @default 20 */
  latencyMs?: number;
}

/**
 * Answers SubmitJob, ListJobs, DescribeJobs and TerminateJob after `latencyMs` of simulated time, keeping the jobs
 * it accepted (a retried submission finds its run's jobs, as in Batch). SubmitJob goes through a token
 * bucket of `submitJobsPerSecond` (burst of the same size); an empty bucket answers
 * TooManyRequestsException, like Batch's HTTP 429.
 */
export class BatchStub {
  submitJobCalls = 0;
  accepted = 0;
  throttled = 0;
  private tokens: number;
  private refilledAt = 0;
  private readonly rate: number;
  private readonly latencyMs: number;

  constructor(
    private readonly clock: VirtualClock,
    opts: BatchStubOptions = {},
  ) {
    this.rate = opts.submitJobsPerSecond ?? 50;
    this.latencyMs = opts.latencyMs ?? 20;
    this.tokens = this.rate;
  }

  /** Typed as the SDK client's `send` so the real submitter drives it unchanged. */
  readonly client = { send: (command: unknown) => this.send(command) } as unknown as BatchApi;

  /** Every job accepted, by id: ListJobs finds them by name (as Batch documents its filter), DescribeJobs by id. */
  readonly jobs = new Map<string, { jobId: string; jobName: string; jobQueue: string; createdAt: number; status: JobStatus; statusReason?: string }>();

  async send(command: unknown): Promise<unknown> {
    if (command instanceof ListJobsCommand) {
      await this.clock.sleep(this.latencyMs);
      const { jobQueue, nextToken } = command.input;
      const name = jobNameFilterOf(command.input);
      const listed = name === undefined ? [] : newestFirst([...this.jobs.values()].filter((j) => j.jobQueue === jobQueue && jobNameFilterMatches(name, j.jobName)));
      const page = listPage(listed, nextToken);
      return { jobSummaryList: page.items.map((j) => ({ ...j })), ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
    }
    if (command instanceof DescribeJobsCommand) {
      await this.clock.sleep(this.latencyMs);
      return { jobs: (command.input.jobs ?? []).flatMap((id) => (this.jobs.has(id) ? [{ ...this.jobs.get(id)! }] : [])) };
    }
    if (command instanceof TerminateJobCommand) {
      await this.clock.sleep(this.latencyMs);
      const job = this.jobs.get(command.input.jobId!);
      if (job && job.status !== "SUCCEEDED") Object.assign(job, { status: "FAILED", statusReason: command.input.reason });
      return {};
    }
    if (!(command instanceof SubmitJobCommand)) throw new Error(`stub does not implement ${(command as object).constructor.name}`);
    this.submitJobCalls++;
    const allowed = this.takeToken();
    await this.clock.sleep(this.latencyMs);
    if (!allowed) {
      this.throttled++;
      throw tooManyRequests();
    }
    this.accepted++;
    const job = { jobId: `job-${this.accepted}`, jobName: command.input.jobName!, jobQueue: command.input.jobQueue!, createdAt: this.clock.now, status: "SUBMITTED" as JobStatus };
    this.jobs.set(job.jobId, job);
    return { jobId: job.jobId, jobName: job.jobName };
  }

  private takeToken(): boolean {
    const now = this.clock.now;
    this.tokens = Math.min(this.rate, this.tokens + ((now - this.refilledAt) / 1000) * this.rate);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
