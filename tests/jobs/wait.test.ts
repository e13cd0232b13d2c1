import { DescribeJobsCommand, type JobStatus } from "@aws-sdk/client-batch";
import { describe, expect, it } from "vitest";
import { waitForJobs, WaitError } from "../../jobs/wait";
import { recordingLogger } from "../support/recordingLogger";
import { mockBatch } from "./fakeBatch";
import { RUN_ID } from "./fixtures";

const { batchMock, batch, commands, clock, sleep } = mockBatch();

describe("waitForJobs", () => {
  const describeReturns = (...polls: [string, JobStatus, string?][][]) => {
    const on = batchMock.on(DescribeJobsCommand);
    for (const poll of polls) {
      on.resolvesOnce({ jobs: poll.map(([jobId, status, statusReason]) => ({ jobId, jobName: `${RUN_ID}-${jobId}`, status, statusReason, jobQueue: "q", jobDefinition: "d", startedAt: 0 })) });
    }
  };

  it("polls until every job succeeded and logs each state transition", async () => {
    describeReturns(
      [["a", "SUBMITTED"], ["b", "SUBMITTED"]],
      [["a", "RUNNING"], ["b", "PENDING"]],
      [["a", "SUCCEEDED"], ["b", "RUNNABLE"]],
      [["a", "SUCCEEDED"], ["b", "SUCCEEDED"]],
    );
    const log = recordingLogger();

    const result = await waitForJobs(["a", "b"], { batch, commands, log, pollIntervalMs: 10_000, sleep: clock.sleep, now: clock.now });

    expect(result).toEqual({ outcome: "SUCCEEDED", counts: { SUCCEEDED: 2 }, failed: [], elapsedMs: 30_000 });
    const transitions = log.lines.filter((l) => l.message === "job state changed").map((l) => [l.fields!.jobId, l.fields!.from, l.fields!.to]);
    expect(transitions).toEqual([
      ["a", null, "SUBMITTED"],
      ["b", null, "SUBMITTED"],
      ["a", "SUBMITTED", "RUNNING"],
      ["b", "SUBMITTED", "PENDING"],
      ["a", "RUNNING", "SUCCEEDED"],
      ["b", "PENDING", "RUNNABLE"],
      ["b", "RUNNABLE", "SUCCEEDED"],
    ]);
    expect(log.lines.filter((l) => l.message === "progress").map((l) => l.fields!.jobs)).toEqual([
      { SUBMITTED: 2 },
      { RUNNING: 1, PENDING: 1 },
      { SUCCEEDED: 1, RUNNABLE: 1 },
      { SUCCEEDED: 2 },
    ]);
  });

  it("returns FAILED with the reason as soon as any job fails", async () => {
    describeReturns([["a", "RUNNING"], ["b", "PENDING"]], [["a", "FAILED", "Essential container in task exited"], ["b", "PENDING"]]);

    const result = await waitForJobs(["a", "b"], { batch, commands, sleep, pollIntervalMs: 1 });

    expect(result.outcome).toBe("FAILED");
    expect(result.failed).toEqual([{ jobId: "a", jobName: `${RUN_ID}-a`, statusReason: "Essential container in task exited" }]);
    expect(batchMock.commandCalls(DescribeJobsCommand)).toHaveLength(2);
  });

  it("describes at most 100 jobs per call", async () => {
    const ids = Array.from({ length: 250 }, (_, i) => `j${i}`);
    batchMock.on(DescribeJobsCommand).callsFake(({ jobs }: { jobs: string[] }) => ({
      jobs: jobs.map((jobId) => ({ jobId, jobName: jobId, status: "SUCCEEDED", jobQueue: "q", jobDefinition: "d", startedAt: 0 })),
    }));

    await waitForJobs(ids, { batch, commands, sleep });

    expect(batchMock.commandCalls(DescribeJobsCommand).map((c) => c.args[0].input.jobs!.length)).toEqual([100, 100, 50]);
  });

  it("gives up when a job stays missing from DescribeJobs", async () => {
    batchMock.on(DescribeJobsCommand).resolves({ jobs: [] });
    await expect(waitForJobs(["gone"], { batch, commands, sleep, maxMissingPolls: 2 })).rejects.toThrow(WaitError);
    expect(batchMock.commandCalls(DescribeJobsCommand)).toHaveLength(3);
  });
});
