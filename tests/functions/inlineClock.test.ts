/**
 * functions/inline.ts on the tests' clock: the invocation's budget and the throttle backoff's jitter run on the
 * clock and the randomness it is given, as the trigger's handler and bench/burst.ts give them.
 */
import { describe, expect, it } from "vitest";
import { BATCH_COMMANDS } from "../../batch/clients";
import type { BatchApi } from "../../batch/calls";
import { createInlineStarter, type InlineDeps } from "../../functions/inline";
import { DEFAULT_WORKFLOW } from "../../workflow/spec";
import { FakeClock } from "../support/clock";
import { tooManyRequests } from "../support/batchSemantics";

const RUN_ID = "0123456789abcdef01234567";
const object = { index: 0, bucket: "in", key: "incoming/a.csv", versionId: "v1", sizeBytes: 10 };
const target = { jobDefinitions: { process: "process-def", barrier: "barrier-def" }, jobQueue: "process-queue", stack: "s" };

/** A Batch that answers every SubmitJob `submitMs` after it is sent (throttling the first `throttled`), lists nothing, and records what it terminates. */
function slowBatch(clock: FakeClock, submitMs: number, throttled = 0) {
  const terminated: string[] = [];
  let jobs = 0;
  const batch = {
    send: async (command: object) => {
      if (command instanceof BATCH_COMMANDS.ListJobsCommand) return { jobSummaryList: [] };
      if (command instanceof BATCH_COMMANDS.TerminateJobCommand) return void terminated.push(command.input.jobId!);
      if (!(command instanceof BATCH_COMMANDS.SubmitJobCommand)) throw new Error(`unexpected ${command.constructor.name}`);
      if (throttled-- > 0) throw tooManyRequests();
      await clock.sleep(submitMs);
      return { jobId: `job-${++jobs}`, jobName: command.input.jobName };
    },
  } as unknown as BatchApi;
  return { batch, terminated, submitted: () => jobs };
}

const starter = (clock: FakeClock, batch: BatchApi, extra: Partial<InlineDeps> = {}) =>
  createInlineStarter({ mode: "inline", workflow: DEFAULT_WORKFLOW, target, batch, submitBatch: batch, commands: BATCH_COMMANDS, now: clock.now, sleep: clock.sleep, setTimer: clock.setTimer, ...extra });

describe("createInlineStarter on an injected clock", () => {
  it("aborts at the budget's end on that clock (deadline − 10 s), terminates what it submitted and fails", async () => {
    // The default DAG's 3 SubmitJob calls in a chain, 20 s each: the third ends at 60 s, past the 50 s budget.
    const clock = new FakeClock();
    const { batch, terminated, submitted } = slowBatch(clock, 20_000);
    const start = starter(clock, batch);
    // Caught inside the run: a rejection the clock's loop has not awaited yet would be reported as unhandled.
    const error = await clock.run(() => start(object, RUN_ID, 60_000).then(() => undefined, (e: unknown) => e));
    expect(String(error)).toMatch(/did not fit the invocation's budget/);
    expect(submitted()).toBe(3);
    expect(terminated.sort()).toEqual(["job-1", "job-2", "job-3"]);
  });

  it("submits the DAG when it fits the budget", async () => {
    const clock = new FakeClock();
    const { batch, terminated } = slowBatch(clock, 10_000);
    const result = await clock.run(() => starter(clock, batch)(object, RUN_ID, 60_000));
    expect(result).toMatchObject({ outcome: "submitted", stored: { runId: RUN_ID, jobId: "job-1", orchestrator: "inline", jobs: 3 } });
    expect(terminated).toEqual([]);
  });

  it("draws the throttle backoff's jitter from the injected random", async () => {
    const clock = new FakeClock();
    const { batch } = slowBatch(clock, 0, 2);
    await starter(clock, batch, { random: () => 0.5 })(object, RUN_ID, 60_000);
    // Full jitter of 1 s, then 2 s (batch/calls.ts: 1 s base, doubling).
    expect(clock.slept.filter((ms) => ms > 0)).toEqual([500, 1000]);
  });
});
