/**
 * The benchmarks' Batch: the tests' Batch model (tests/support/batchModel.ts) on the tests' clock
 * (tests/support/clock.ts), driven as a discrete-event simulation (`clock.run`): time only advances when
 * every pending promise is waiting on the clock, so minutes of throttled submission run in milliseconds.
 */
import type { BatchApi } from "../batch/calls";
import { BatchModel, operationOf } from "../tests/support/batchModel";
import { FakeClock } from "../tests/support/clock";

/** Options of {@link BatchStub}. */
export interface BatchStubOptions {
  /** @default 50 (Batch's SubmitJob limit per account) */
  submitJobsPerSecond?: number;
  /** @default 20 */
  latencyMs?: number;
}

/**
 * Batch as the model answers it, after `latencyMs` of simulated time, keeping the jobs it accepted (a
 * retried submission finds its run's jobs, as in Batch). SubmitJob goes through the model's call-rate
 * throttle, a token bucket of `submitJobsPerSecond` (burst of the same size) taken when the call arrives;
 * an empty bucket answers TooManyRequestsException, like Batch's HTTP 429. The model keeps only what
 * ListJobs shows of a job (a naive run submits a million).
 */
export class BatchStub {
  readonly model: BatchModel;
  private readonly latencyMs: number;

  constructor(
    private readonly clock: FakeClock,
    opts: BatchStubOptions = {},
  ) {
    this.latencyMs = opts.latencyMs ?? 20;
    this.model = new BatchModel({
      clock,
      throttle: { perSecond: opts.submitJobsPerSecond ?? 50, operations: ["SubmitJob"] },
      jobIdOf: (_input, n) => `job-${n}`,
      lean: true,
    });
  }

  /** SubmitJob calls received. */
  get submitJobCalls(): number {
    return this.model.stats.SubmitJob.calls;
  }

  /** SubmitJob calls that created a job. */
  get accepted(): number {
    return this.model.created;
  }

  /** SubmitJob calls the rate refused (HTTP 429). */
  get throttled(): number {
    return this.model.stats.SubmitJob.throttled;
  }

  /** Typed as the SDK client's `send` so the real submitter drives it unchanged. */
  readonly client = { send: (command: unknown) => this.send(command) } as unknown as BatchApi;

  async send(command: unknown): Promise<unknown> {
    const operation = operationOf(command);
    if (!operation) throw new Error(`stub does not implement ${(command as object).constructor.name}`);
    const input = (command as { input: unknown }).input;
    if (operation !== "SubmitJob") {
      await this.clock.sleep(this.latencyMs);
      return this.model.call(operation, input);
    }
    // The bucket is asked, and the job made, when the call arrives; the answer comes after the latency.
    let answer: { output?: unknown; error?: unknown };
    try {
      answer = { output: this.model.call(operation, input) };
    } catch (error) {
      answer = { error };
    }
    await this.clock.sleep(this.latencyMs);
    if ("error" in answer) throw answer.error;
    return answer.output;
  }
}
