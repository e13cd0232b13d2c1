/**
 * The policy pack against a stack that turns the RUNNABLE time limit off (runnableTimeoutSeconds 0, which
 * the stack config allows): the pack's one recommendation reports each queue, as advisory, so
 * `pulumi preview` warns without failing; everything else passes.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { loadStack, runPack, type StackResource } from "./support";

let stack: StackResource[];

beforeAll(async () => {
  stack = await loadStack({ runnableTimeoutSeconds: 0 });
});

describe("a stack without a RUNNABLE time limit", () => {
  it("gets one advisory violation per job queue and nothing else", async () => {
    const queues = stack.filter((r) => r.type === "aws:batch/jobQueue:JobQueue");
    expect(queues).toHaveLength(2);
    expect(await runPack(stack)).toEqual(
      queues.map((q) => ({
        policy: "batch-job-queue-runnable-time-limit",
        level: "advisory",
        message: `JobQueue "${q.name}": jobStateTimeLimitActions has no RUNNABLE entry, so a job no environment can place (too big for every instance type, or the environments at maxVcpus) stays RUNNABLE at the head of the queue; add { state: "RUNNABLE", action: "CANCEL", maxTimeSeconds: 3600, reason: "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT" } and the other stuck reasons.`,
        urn: q.urn,
      })),
    );
  });
});
