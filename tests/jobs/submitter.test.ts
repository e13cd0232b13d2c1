import {
  BatchClient,
  BatchServiceException,
  ClientException,
  DescribeJobsCommand,
  ListJobsCommand,
  SubmitJobCommand,
  TerminateJobCommand,
  type JobStatus,
  type JobSummary,
  type SubmitJobCommandInput,
} from "@aws-sdk/client-batch";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { Logger } from "../../jobs/log";
import { planWorkflow, type Plan } from "../../jobs/planner";
import { defaultWorkflow, parseWorkflowSpec } from "../../jobs/spec";
import {
  assessExistingJobs,
  isAmbiguousSubmitFailure,
  isDeterministicFailure,
  startJobOwner,
  SubmissionError,
  submitPlan,
  TERMINATION_REASON_PREFIX,
  waitForJobs,
  WaitError,
} from "../../jobs/submitter";
import { accessDenied, clientError, FakeBatch, serverError, timeout } from "./fakeBatch";
import { context, RUN_ID } from "./fixtures";

const batchMock = mockClient(BatchClient);
const batch = new BatchClient({ region: "us-east-1" });

const tooManyRequests = () =>
  new BatchServiceException({ name: "TooManyRequestsException", $fault: "client", $metadata: { httpStatusCode: 429 }, message: "Too Many Requests" });

/** Batch ids derived from the job name make assertions about dependency mapping readable. */
const idFor = (jobName: string) => `id-${jobName.slice(RUN_ID.length + 1)}`;

function recordingLogger(): Logger & { lines: { level: string; message: string; fields?: Record<string, unknown> }[] } {
  const lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => void lines.push({ level, message, fields });
  return { lines, info: at("info"), warn: at("warn"), error: at("error") };
}

const submitted = () => batchMock.commandCalls(SubmitJobCommand).map((c) => c.args[0].input as SubmitJobCommandInput);
const terminated = () => batchMock.commandCalls(TerminateJobCommand).map((c) => c.args[0].input);

function summaries(plan: Plan, overrides: Partial<JobSummary> = {}, ids = (name: string) => idFor(name)): JobSummary[] {
  return plan.jobs.map((j) => ({ jobName: j.request.jobName, jobId: ids(j.request.jobName), status: "RUNNABLE" as JobStatus, createdAt: 1_000, ...overrides }));
}

const sleep = vi.fn(async (_ms: number) => {});

beforeEach(() => {
  batchMock.reset();
  sleep.mockClear();
  batchMock.on(ListJobsCommand).resolves({ jobSummaryList: [] });
  batchMock.on(SubmitJobCommand).callsFake((input: SubmitJobCommandInput) => ({ jobId: idFor(input.jobName!), jobName: input.jobName }));
  batchMock.on(TerminateJobCommand).resolves({});
});

describe("submitPlan", () => {
  it("lists the run's jobs by name prefix on the queue before submitting", async () => {
    await submitPlan(planWorkflow(defaultWorkflow(3), context()), { batch, sleep });
    expect(batchMock.commandCalls(ListJobsCommand).map((c) => c.args[0].input)).toEqual([
      { jobQueue: "process-queue", filters: [{ name: "JOB_NAME", values: [`${RUN_ID}-*`] }], nextToken: undefined },
    ]);
  });

  it("submits in dependency order and maps plan dependencies to Batch job ids", async () => {
    const plan = planWorkflow(defaultWorkflow(10_001), context());

    const result = await submitPlan(plan, { batch, sleep, concurrency: 1 });

    expect(result.outcome).toBe("submitted");
    expect(submitted().map((s) => [s.jobName, s.dependsOn, s.arrayProperties])).toEqual([
      [`${RUN_ID}-prepare`, undefined, undefined],
      [`${RUN_ID}-process-p0`, [{ jobId: "id-prepare" }], { size: 5_001 }],
      [`${RUN_ID}-process-p1`, [{ jobId: "id-prepare" }], { size: 5_000 }],
      [`${RUN_ID}-merge`, [{ jobId: "id-process-p0" }, { jobId: "id-process-p1" }], undefined],
    ]);
    expect(result.jobs).toEqual(plan.jobs.map((j) => ({ id: j.id, jobName: j.request.jobName, jobId: idFor(j.request.jobName) })));
    // The request is the planned one, plus dependsOn.
    expect(submitted()[1]).toEqual({ ...plan.jobs[1].request, dependsOn: [{ jobId: "id-prepare" }] });
  });

  it("passes N_TO_N through and submits independent jobs in parallel, never before their dependencies", async () => {
    const spec = parseWorkflowSpec({
      steps: [
        { name: "a", jobDefinition: "process", width: { fixed: 4 } },
        { name: "b", jobDefinition: "process", width: { fixed: 4 } },
        { name: "c", jobDefinition: "process", width: { fixed: 4 }, dependsOn: [{ step: "a", type: "N_TO_N" }, "b"] },
      ],
    });
    const done = new Set<string>();
    let inFlight = 0;
    let maxInFlight = 0;
    batchMock.on(SubmitJobCommand).callsFake(async (input: SubmitJobCommandInput) => {
      for (const dep of input.dependsOn ?? []) expect(done.has(dep.jobId!)).toBe(true);
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      done.add(idFor(input.jobName!));
      return { jobId: idFor(input.jobName!), jobName: input.jobName };
    });

    await submitPlan(planWorkflow(spec, context()), { batch, sleep, concurrency: 2 });

    expect(maxInFlight).toBe(2);
    expect(submitted().at(-1)!.dependsOn).toEqual([{ jobId: "id-b" }, { jobId: "id-a", type: "N_TO_N" }]);
  });

  it("backs off and retries when throttling still surfaces after the SDK's retries", async () => {
    batchMock
      .on(SubmitJobCommand)
      .rejectsOnce(tooManyRequests())
      .callsFake((input: SubmitJobCommandInput) => ({ jobId: idFor(input.jobName!), jobName: input.jobName }));
    const log = recordingLogger();

    const result = await submitPlan(planWorkflow(defaultWorkflow(3), context()), { batch, sleep, log, random: () => 0.5, concurrency: 1 });

    expect(result.outcome).toBe("submitted");
    expect(submitted().map((s) => s.jobName)).toEqual([`${RUN_ID}-prepare`, `${RUN_ID}-prepare`, `${RUN_ID}-process`, `${RUN_ID}-merge`]);
    expect(sleep.mock.calls).toEqual([[500]]); // full jitter: 0.5 × 1 s base
    expect(log.lines).toContainEqual({ level: "warn", message: "throttled; backing off", fields: { call: `SubmitJob ${RUN_ID}-prepare`, retry: 1, delayMs: 500 } });
    expect(terminated()).toEqual([]);
  });

  it("gives up after `throttleRetries`, terminates what it submitted and throws", async () => {
    batchMock
      .on(SubmitJobCommand, { jobName: `${RUN_ID}-merge` })
      .rejects(tooManyRequests());

    const attempt = submitPlan(planWorkflow(defaultWorkflow(3), context()), { batch, sleep, throttleRetries: 2, random: () => 1 });

    await expect(attempt).rejects.toThrow(SubmissionError);
    expect(sleep.mock.calls).toEqual([[1_000], [2_000]]);
    expect(terminated().map((t) => t.jobId)).toEqual(["id-process", "id-prepare"]);
  });

  it("terminates everything it submitted when a submission fails part-way, then rethrows", async () => {
    const plan = planWorkflow(defaultWorkflow(1_000_000), context());
    const failure = new ClientException({ message: "job definition not found", $metadata: {} });
    batchMock.on(SubmitJobCommand, { jobName: `${RUN_ID}-process-p50` }).rejects(failure);

    const error = await submitPlan(plan, { batch, sleep, concurrency: 1, attempt: 2 }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(SubmissionError);
    const details = (error as SubmissionError).details;
    expect((error as SubmissionError).cause).toBe(failure);
    expect((error as Error).message).toMatch(/^run 0123456789abcdef01234567: submission failed after 51 of 107 jobs \(ClientException: job definition not found\); terminated 51$/);
    expect(details.submitted.map((j) => j.id)).toEqual(["prepare", ...Array.from({ length: 50 }, (_, k) => `process-p${k}`)]);
    // Every job submitted in this attempt is terminated, newest first, with a reason naming the run.
    expect(terminated().map((t) => t.jobId).sort()).toEqual(details.submitted.map((j) => j.jobId).sort());
    expect(terminated()[0]).toEqual({ jobId: "id-process-p49", reason: `${TERMINATION_REASON_PREFIX} run ${RUN_ID} attempt 2: submission failed after 51 of 107 jobs` });
    // Nothing was submitted after the failure.
    expect(submitted()).toHaveLength(52);
  });

  it("reports jobs it could not terminate", async () => {
    batchMock.on(SubmitJobCommand, { jobName: `${RUN_ID}-merge` }).rejects(new ClientException({ message: "boom", $metadata: {} }));
    batchMock.on(TerminateJobCommand, { jobId: "id-prepare" }).rejects(new ClientException({ message: "denied", $metadata: {} }));

    const error = (await submitPlan(planWorkflow(defaultWorkflow(3), context()), { batch, sleep }).catch((e: unknown) => e)) as SubmissionError;

    expect(error.details.terminated).toEqual(["id-process"]);
    expect(error.details.terminationFailures).toEqual(["id-prepare"]);
    expect(error.message).toMatch(/could NOT terminate id-prepare$/);
  });

  it("stops and cleans up when aborted (SIGTERM) mid-submission", async () => {
    const controller = new AbortController();
    batchMock.on(SubmitJobCommand).callsFake((input: SubmitJobCommandInput) => {
      controller.abort("SIGTERM");
      return { jobId: idFor(input.jobName!), jobName: input.jobName };
    });

    await expect(submitPlan(planWorkflow(defaultWorkflow(3), context()), { batch, sleep, signal: controller.signal })).rejects.toThrow(/aborted: SIGTERM/);
    expect(submitted()).toHaveLength(1);
    expect(terminated().map((t) => t.jobId)).toEqual(["id-prepare"]);
  });

  it("does not submit a second DAG when a retried attempt finds the complete one", async () => {
    const plan = planWorkflow(defaultWorkflow(1_000_000), context());
    const existing = summaries(plan, {}, (name) => `old-${name}`);
    // ListJobs pages at 100 with a filter; the start job itself may match the prefix.
    batchMock
      .on(ListJobsCommand)
      .resolvesOnce({ jobSummaryList: existing.slice(0, 100), nextToken: "page-2" })
      .resolvesOnce({ jobSummaryList: [...existing.slice(100), { jobName: `${RUN_ID}-start`, jobId: "self", status: "RUNNING" }] });

    const result = await submitPlan(plan, { batch, sleep, attempt: 2, ownJobId: "self" });

    expect(result.outcome).toBe("existing");
    expect(submitted()).toEqual([]);
    expect(terminated()).toEqual([]);
    expect(result.jobs.map((j) => j.jobId)).toEqual(plan.jobs.map((j) => `old-${j.request.jobName}`));
    expect(batchMock.commandCalls(ListJobsCommand)[1].args[0].input.nextToken).toBe("page-2");
  });

  it("reuses a complete DAG even when an older attempt's leftover cannot be terminated", async () => {
    const plan = planWorkflow(defaultWorkflow(3), context());
    batchMock.on(ListJobsCommand).resolves({ jobSummaryList: [...summaries(plan, { createdAt: 20 }), { jobName: `${RUN_ID}-prepare`, jobId: "older", status: "RUNNING", createdAt: 10 }] });
    batchMock.on(TerminateJobCommand).rejects(new ClientException({ message: "denied", $metadata: {} }));
    const log = recordingLogger();

    const result = await submitPlan(plan, { batch, sleep, log });

    expect(result).toMatchObject({ outcome: "existing", terminated: [] });
    expect(terminated().map((t) => t.jobId)).toEqual(["older"]);
    expect(submitted()).toEqual([]);
    expect(log.lines).toContainEqual({ level: "error", message: "could not terminate stale jobs of an earlier attempt", fields: { jobIds: ["older"] } });
  });

  it("terminates a partial DAG of an earlier attempt, waits until it has stopped, then submits the whole plan", async () => {
    const plan = planWorkflow(defaultWorkflow(3), context());
    batchMock.on(ListJobsCommand).resolves({
      jobSummaryList: [
        { jobName: `${RUN_ID}-process`, jobId: "old-process", status: "PENDING", createdAt: 2 },
        { jobName: `${RUN_ID}-prepare`, jobId: "old-prepare", status: "SUCCEEDED", createdAt: 1 },
      ],
    });
    batchMock.on(DescribeJobsCommand).resolves({ jobs: [{ jobId: "old-process", jobName: `${RUN_ID}-process`, status: "FAILED", jobQueue: "q", jobDefinition: "d", startedAt: 0 }] });
    const log = recordingLogger();

    const result = await submitPlan(plan, { batch, sleep, attempt: 3, log });

    expect(result.outcome).toBe("submitted");
    expect(result.terminated).toEqual(["old-process"]);
    // A finished job needs no TerminateJob; the unfinished one goes before anything new is submitted.
    expect(terminated()).toEqual([{ jobId: "old-process", reason: `${TERMINATION_REASON_PREFIX} run ${RUN_ID} attempt 3: replacing a partial DAG of an earlier attempt` }]);
    expect(batchMock.calls().map((c) => c.args[0].constructor.name)).toEqual([
      "ListJobsCommand",
      "TerminateJobCommand",
      "DescribeJobsCommand", // until it has stopped: TerminateJob only asks
      "SubmitJobCommand",
      "SubmitJobCommand",
      "SubmitJobCommand",
    ]);
    expect(log.lines.map((l) => l.message)).toContain("a partial DAG of an earlier attempt exists; terminating it and submitting the whole plan once it has stopped");
  });

  it("refuses to submit when the partial DAG cannot be terminated", async () => {
    const plan = planWorkflow(defaultWorkflow(3), context());
    batchMock.on(ListJobsCommand).resolves({ jobSummaryList: [{ jobName: `${RUN_ID}-prepare`, jobId: "old-prepare", status: "RUNNING", createdAt: 1 }] });
    batchMock.on(TerminateJobCommand).rejects(new ClientException({ message: "denied", $metadata: {} }));

    await expect(submitPlan(plan, { batch, sleep })).rejects.toThrow("could not terminate the partial DAG of an earlier attempt (old-prepare); not submitting");
    expect(submitted()).toEqual([]);
  });
});

describe("assessExistingJobs", () => {
  const plan = planWorkflow(defaultWorkflow(3), context());
  const job = (name: string, jobId: string, status: JobStatus, createdAt: number, statusReason?: string): JobSummary => ({
    jobName: `${RUN_ID}-${name}`,
    jobId,
    status,
    createdAt,
    statusReason,
  });
  const reason = `${TERMINATION_REASON_PREFIX} run ${RUN_ID} attempt 1: submission failed`;

  it("finds nothing when no job has a planned name", () => {
    expect(assessExistingJobs(plan, [job("other", "x", "RUNNING", 1)]).kind).toBe("none");
  });

  it("takes the newest job per name: a complete newer attempt wins over an older terminated one", () => {
    const found = assessExistingJobs(plan, [
      job("merge", "new-merge", "PENDING", 20),
      job("process", "new-process", "RUNNABLE", 20),
      job("prepare", "new-prepare", "RUNNING", 20),
      job("process", "old-process", "SUBMITTED", 10, reason),
      job("prepare", "old-prepare", "FAILED", 10, reason),
    ]);
    expect(found.kind).toBe("complete");
    if (found.kind !== "complete") return;
    expect(found.jobs.map((j) => j.jobId)).toEqual(["new-prepare", "new-process", "new-merge"]);
    // The old attempt's job is not finished yet (termination is asynchronous): terminate it again.
    expect(found.stale.map((j) => j.jobId)).toEqual(["old-process"]);
  });

  it("treats a DAG we terminated ourselves as partial, even when every name is present", () => {
    const found = assessExistingJobs(plan, [
      job("merge", "m", "SUBMITTED", 20, reason),
      job("process", "p", "FAILED", 20, reason),
      job("prepare", "q", "SUCCEEDED", 20),
    ]);
    expect(found.kind).toBe("partial");
    expect(found.stale.map((j) => j.jobId)).toEqual(["m"]);
  });

  it("ignores its own start job and reports names outside the plan", () => {
    const found = assessExistingJobs(plan, [job("prepare", "self", "RUNNING", 1), job("start", "s", "RUNNING", 1)], "self");
    expect(found.kind).toBe("none");
    expect(found.unknown.map((j) => j.jobId)).toEqual(["s"]);
  });
});

describe("startJobOwner (which of a run's start jobs submits its DAG)", () => {
  const job = (jobId: string, createdAt: number, status: JobStatus = "RUNNING") => ({ jobId, createdAt, status });
  it.each([
    ["alone", job("me", 10), [job("me", 10)], undefined],
    ["the older of two live ones", job("me", 10), [job("me", 10), job("later", 20)], undefined],
    ["younger than a live one", job("me", 20), [job("first", 10), job("me", 20)], "first"],
    ["younger than a RUNNABLE one (it owns the run, even before it runs)", job("me", 20), [job("first", 10, "RUNNABLE"), job("me", 20)], "first"],
    // Finished start jobs do not own the run: a SUCCEEDED one submitted the DAG (submitPlan finds it) or
    // stood aside as a duplicate; a FAILED one gave up.
    ["younger than a SUCCEEDED one", job("me", 20), [job("first", 10, "SUCCEEDED"), job("me", 20)], undefined],
    ["younger than a FAILED one", job("me", 20), [job("first", 10, "FAILED"), job("me", 20)], undefined],
    ["after a FAILED owner and a duplicate that stood aside", job("c", 30), [job("a", 10, "FAILED"), job("b", 20, "SUCCEEDED"), job("c", 30)], undefined],
    ["younger than a STARTING one", job("me", 20), [job("first", 10, "STARTING"), job("me", 20)], "first"],
    ["created in the same millisecond, larger id", job("b", 10), [job("a", 10), job("b", 10)], "a"],
    ["created in the same millisecond, smaller id", job("a", 10), [job("a", 10), job("b", 10)], undefined],
    ["third of three", job("c", 30), [job("c", 30), job("b", 20), job("a", 10)], "a"],
  ] as const)("%s → owner %s", (_label, own, namesakes, owner) => {
    expect(startJobOwner(own, namesakes)?.jobId).toBe(owner);
  });
});

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
    let now = 0;

    const result = await waitForJobs(["a", "b"], { batch, log, pollIntervalMs: 10_000, sleep: async (ms) => void (now += ms), now: () => now });

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

    const result = await waitForJobs(["a", "b"], { batch, sleep, pollIntervalMs: 1 });

    expect(result.outcome).toBe("FAILED");
    expect(result.failed).toEqual([{ jobId: "a", jobName: `${RUN_ID}-a`, statusReason: "Essential container in task exited" }]);
    expect(batchMock.commandCalls(DescribeJobsCommand)).toHaveLength(2);
  });

  it("describes at most 100 jobs per call", async () => {
    const ids = Array.from({ length: 250 }, (_, i) => `j${i}`);
    batchMock.on(DescribeJobsCommand).callsFake(({ jobs }: { jobs: string[] }) => ({
      jobs: jobs.map((jobId) => ({ jobId, jobName: jobId, status: "SUCCEEDED", jobQueue: "q", jobDefinition: "d", startedAt: 0 })),
    }));

    await waitForJobs(ids, { batch, sleep });

    expect(batchMock.commandCalls(DescribeJobsCommand).map((c) => c.args[0].input.jobs!.length)).toEqual([100, 100, 50]);
  });

  it("gives up when a job stays missing from DescribeJobs", async () => {
    batchMock.on(DescribeJobsCommand).resolves({ jobs: [] });
    await expect(waitForJobs(["gone"], { batch, sleep, maxMissingPolls: 2 })).rejects.toThrow(WaitError);
    expect(batchMock.commandCalls(DescribeJobsCommand)).toHaveLength(3);
  });
});

/** Fake time: `sleep` advances `now` at once, and records what it slept. */
function fakeClock() {
  const slept: number[] = [];
  return { slept, sleep: async (ms: number) => void slept.push(ms) };
}

const NAME = (id: string) => `${RUN_ID}-${id}`;
const listInputs = () => batchMock.commandCalls(ListJobsCommand).map((c) => c.args[0].input);

// SubmitJob has no client token, and a 5xx, a timeout or a reset connection can come after Batch created
// the job. Retrying it blindly runs the step twice (a 10,000-task array doubles), so the submitter looks
// the job up by its unique name before submitting again, and stops any duplicate it finds later.
describe("submitPlan: ambiguous SubmitJob failures (no client token)", () => {
  const plan = () => planWorkflow(defaultWorkflow(3), context());

  it.each([
    ["an HTTP 500", serverError],
    ["a timeout (no response at all)", timeout],
  ])("after %s that followed the job's creation, adopts the job found by its exact name: one job per planned name", async (_what, error) => {
    const batch$ = new FakeBatch(batchMock).fail(NAME("process"), { creates: true, error });
    const clock = fakeClock();

    const result = await submitPlan(plan(), { batch, ...clock });

    expect(result.outcome).toBe("submitted");
    for (const id of ["prepare", "process", "merge"]) expect(batch$.named(NAME(id)), id).toHaveLength(1);
    expect(submitted().map((s) => s.jobName)).toEqual([NAME("prepare"), NAME("process"), NAME("merge")]);
    const process = batch$.named(NAME("process"))[0];
    expect(result.jobs[1].jobId).toBe(process.jobId);
    expect(batch$.named(NAME("merge"))[0].dependsOn).toEqual([{ jobId: process.jobId }]);
    // The lookup: ListJobs on the plan's queue, filtered on the exact name (not the run's prefix).
    expect(listInputs()).toContainEqual({ jobQueue: "process-queue", filters: [{ name: "JOB_NAME", values: [NAME("process")] }], nextToken: undefined });
    expect(terminated()).toEqual([]);
    expect(result.duplicates).toEqual([]);
  });

  it("ListJobs is eventually consistent: polls with backoff until the job a failed SubmitJob created shows up", async () => {
    const batch$ = new FakeBatch(batchMock).fail(NAME("prepare"), { creates: true, error: serverError, listLag: 3 });
    const clock = fakeClock();

    const result = await submitPlan(plan(), { batch, ...clock });

    expect(clock.slept).toEqual([1_000, 2_000, 4_000]); // missed three times, found on the fourth poll
    expect(batch$.named(NAME("prepare"))).toHaveLength(1);
    expect(result.jobs[0].jobId).toBe(batch$.named(NAME("prepare"))[0].jobId);
    expect(submitted().filter((s) => s.jobName === NAME("prepare"))).toHaveLength(1);
  });

  it("submits again only when the lookup finds no new job of that name (the failed call created nothing)", async () => {
    const batch$ = new FakeBatch(batchMock).fail(NAME("merge"), { creates: false, error: serverError });
    const clock = fakeClock();

    const result = await submitPlan(plan(), { batch, ...clock, lookupPolls: 3 });

    expect(clock.slept).toEqual([1_000, 2_000]);
    expect(submitted().filter((s) => s.jobName === NAME("merge"))).toHaveLength(2);
    expect(batch$.live(NAME("merge"))).toHaveLength(1);
    expect(result.duplicates).toEqual([]);
  });

  it("never adopts an earlier attempt's job of the same name (listed before this attempt submitted)", async () => {
    const batch$ = new FakeBatch(batchMock).fail(NAME("prepare"), { creates: false, error: serverError });
    // An earlier attempt's prepare that finished, next to a later planned name that was never submitted.
    batch$.add({ jobId: "old-prepare", jobName: NAME("prepare"), status: "SUCCEEDED", createdAt: 1 });

    const result = await submitPlan(plan(), { batch, sleep, lookupPolls: 2 });

    expect(result.jobs[0].jobId).not.toBe("old-prepare");
    expect(submitted().filter((s) => s.jobName === NAME("prepare"))).toHaveLength(2);
    expect(batch$.named(NAME("process"))[0].dependsOn).toEqual([{ jobId: result.jobs[0].jobId }]);
  });

  it("terminates a ghost the lookup missed (created by the failed call, listed only later) once the DAG is in place", async () => {
    // Hidden from the 5 lookups, visible to the listing after the DAG is submitted.
    const batch$ = new FakeBatch(batchMock).fail(NAME("process"), { creates: true, error: serverError, listLag: 5 });
    const log = recordingLogger();

    const result = await submitPlan(plan(), { batch, sleep, log, attempt: 2 });

    const [ghost, adopted] = batch$.named(NAME("process"));
    expect(result.jobs[1].jobId).toBe(adopted.jobId);
    expect(batch$.named(NAME("merge"))[0].dependsOn).toEqual([{ jobId: adopted.jobId }]);
    expect(result.duplicates).toEqual([ghost.jobId]);
    expect(terminated()).toEqual([{ jobId: ghost.jobId, reason: `${TERMINATION_REASON_PREFIX} run ${RUN_ID} attempt 2: duplicate created by an ambiguous SubmitJob` }]);
    // In the end exactly one job per planned name runs.
    for (const id of ["prepare", "process", "merge"]) expect(batch$.live(NAME(id)), id).toHaveLength(1);
    expect(listInputs().at(-1)).toEqual({ jobQueue: "process-queue", filters: [{ name: "JOB_NAME", values: [`${RUN_ID}-*`] }], nextToken: undefined });
    expect(log.lines.find((l) => l.message === "submitted the run's DAG")?.fields).toMatchObject({ ambiguousSubmitJobFailures: 1, duplicatesTerminated: 1 });
  });

  it("does not list the run again when no SubmitJob was ambiguous", async () => {
    new FakeBatch(batchMock);
    await submitPlan(plan(), { batch, sleep });
    expect(listInputs()).toHaveLength(1);
  });

  it("treats a client error (HTTP 4xx: Batch refused it, created nothing) as final: no lookup, no resubmission", async () => {
    new FakeBatch(batchMock).fail(NAME("process"), { creates: false, error: clientError });
    await expect(submitPlan(plan(), { batch, sleep })).rejects.toThrow(/ClientException: Job definition is INACTIVE/);
    expect(submitted().filter((s) => s.jobName === NAME("process"))).toHaveLength(1);
    expect(listInputs()).toHaveLength(1);
  });

  it("gives up after `maxResubmits`, and also stops a ghost the failed calls created, so nothing is orphaned", async () => {
    const batch$ = new FakeBatch(batchMock).fail(
      NAME("merge"),
      { creates: true, error: serverError, listLag: 2 },
      { creates: false, error: serverError },
    );

    const error = (await submitPlan(plan(), { batch, sleep, lookupPolls: 1, maxResubmits: 1 }).catch((e: unknown) => e)) as SubmissionError;

    expect(error).toBeInstanceOf(SubmissionError);
    expect(error.message).toMatch(/submission failed after 2 of 3 jobs \(ServerException: Internal Server Error\); terminated 3$/);
    expect(submitted().filter((s) => s.jobName === NAME("merge"))).toHaveLength(2);
    for (const id of ["prepare", "process", "merge"]) expect(batch$.live(NAME(id)), id).toEqual([]);
    expect(error.details.terminated).toContain(batch$.named(NAME("merge"))[0].jobId);
  });

  it.each([
    ["HTTP 500", serverError(), true],
    ["a timeout", timeout(), true],
    ["a reset connection", Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }), true],
    ["HTTP 400 ClientException", clientError(), false],
    ["HTTP 403 AccessDeniedException", accessDenied(), false],
    ["HTTP 429 (throttled: Batch created nothing)", new BatchServiceException({ name: "TooManyRequestsException", $fault: "client", $metadata: { httpStatusCode: 429 }, message: "" }), false],
  ])("%s may have created the job: %s", (_what, error, ambiguous) => {
    expect(isAmbiguousSubmitFailure(error)).toBe(ambiguous);
  });
});

// TerminateJob only asks: a RUNNING job gets SIGTERM, then SIGKILL 30 s later, and a PENDING one is
// cancelled only once its dependencies finish (TerminateJob / CancelJob API reference, job states). Old and
// new tasks of one run must not run side by side, so the new DAG waits until the old one has stopped.
describe("submitPlan: an earlier attempt's partial DAG is stopped before anything new is submitted", () => {
  const plan = () => planWorkflow(defaultWorkflow(3), context());
  const order = () => batchMock.calls().map((c) => c.args[0].constructor.name.replace(/Command$/, ""));

  it("polls DescribeJobs until every terminated job is FAILED (they stay RUNNING for a few polls), then submits", async () => {
    const batch$ = new FakeBatch(batchMock);
    batch$.add({ jobId: "old-prepare", jobName: NAME("prepare"), status: "RUNNING", createdAt: 1, stopsAfterPolls: 3 });
    const clock = fakeClock();

    const result = await submitPlan(plan(), { batch, ...clock, attempt: 2 });

    expect(result.terminated).toEqual(["old-prepare"]);
    expect(clock.slept).toEqual([5_000, 10_000, 20_000]);
    expect(order()).toEqual(["ListJobs", "TerminateJob", "DescribeJobs", "DescribeJobs", "DescribeJobs", "DescribeJobs", "SubmitJob", "SubmitJob", "SubmitJob"]);
    expect(batch$.named(NAME("prepare"))[0].status).toBe("FAILED");
  });

  it("terminates an array parent's RUNNING, STARTING and RUNNABLE children: cancelling the PENDING parent does not stop started ones", async () => {
    const batch$ = new FakeBatch(batchMock);
    batch$.add({ jobId: "old-prepare", jobName: NAME("prepare"), status: "SUCCEEDED", createdAt: 1 });
    batch$.add({ jobId: "old-process", jobName: NAME("process"), status: "PENDING", createdAt: 2, arrayProperties: { size: 4 } });
    batch$.children.set("old-process", [
      { jobId: "old-process:0", status: "RUNNING" },
      { jobId: "old-process:1", status: "STARTING" },
      { jobId: "old-process:2", status: "RUNNABLE" },
      { jobId: "old-process:3", status: "SUCCEEDED" },
    ]);
    const clock = fakeClock();

    const result = await submitPlan(plan(), { batch, ...clock });

    expect(result.outcome).toBe("submitted");
    expect(terminated().map((t) => t.jobId)).toEqual(["old-process", "old-process:0", "old-process:1", "old-process:2"]);
    expect(listInputs().filter((i) => i.arrayJobId)).toEqual(
      ["RUNNING", "STARTING", "RUNNABLE"].map((jobStatus) => ({ arrayJobId: "old-process", jobStatus, nextToken: undefined })),
    );
    expect(order().indexOf("SubmitJob")).toBeGreaterThan(order().lastIndexOf("DescribeJobs"));
  });

  it("fails as retryable, submitting nothing, when they still run after the bound (10 minutes by default)", async () => {
    const batch$ = new FakeBatch(batchMock);
    batch$.add({ jobId: "old-prepare", jobName: NAME("prepare"), status: "RUNNING", createdAt: 1, stopsAfterPolls: 1_000 });
    const clock = fakeClock();

    const error = (await submitPlan(plan(), { batch, ...clock, terminationWaitMs: 60_000 }).catch((e: unknown) => e)) as SubmissionError;

    expect(error).toBeInstanceOf(SubmissionError);
    expect(error.message).toBe("1 job(s) of an earlier attempt still not finished 65 s after TerminateJob (old-prepare); not submitting while they may run, a later attempt tries again");
    expect(clock.slept).toEqual([5_000, 10_000, 20_000, 30_000]);
    expect(submitted()).toEqual([]);
    expect(isDeterministicFailure(error)).toBe(false); // exit code 3: retried
  });

  it("stops waiting, submitting nothing, when aborted (SIGTERM)", async () => {
    const batch$ = new FakeBatch(batchMock);
    batch$.add({ jobId: "old-prepare", jobName: NAME("prepare"), status: "RUNNING", createdAt: 1, stopsAfterPolls: 1_000 });
    const controller = new AbortController();
    const aborting = async () => controller.abort("SIGTERM");

    await expect(submitPlan(plan(), { batch, sleep: aborting, signal: controller.signal })).rejects.toThrow(/^aborted \(SIGTERM\) while waiting/);
    expect(batchMock.commandCalls(DescribeJobsCommand)).toHaveLength(1);
    expect(submitted()).toEqual([]);
  });

  it("describes at most 100 jobs per DescribeJobs call while waiting", async () => {
    const wide = planWorkflow(defaultWorkflow(1_000_000), context());
    const batch$ = new FakeBatch(batchMock);
    // Every planned job but the last: a partial DAG of 106 live jobs.
    wide.jobs.slice(0, -1).forEach((j, i) => batch$.add({ jobId: `old-${i}`, jobName: j.request.jobName, status: "RUNNING", createdAt: 1, stopsAfterPolls: 1 }));

    await submitPlan(wide, { batch, sleep });

    expect(batchMock.commandCalls(DescribeJobsCommand).map((c) => c.args[0].input.jobs!.length)).toEqual([100, 6, 100, 6]);
  });

  it("a partial DAG that cannot be terminated because IAM denies it is a deterministic failure (not retried)", async () => {
    const batch$ = new FakeBatch(batchMock);
    batch$.add({ jobId: "old-prepare", jobName: NAME("prepare"), status: "RUNNING", createdAt: 1 });
    batchMock.on(TerminateJobCommand).rejects(accessDenied());

    const error = await submitPlan(plan(), { batch, sleep }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(SubmissionError);
    expect(isDeterministicFailure(error)).toBe(true);
  });
});

describe("isDeterministicFailure (which failures a retried start job would only repeat)", () => {
  const submission = (cause: unknown) => new SubmissionError("failed", { cause, submitted: [], terminated: [], terminationFailures: [] });
  it.each([
    ["ClientException (HTTP 400: inactive job definition, unknown queue, validation)", clientError(), true],
    ["AccessDeniedException (HTTP 403)", accessDenied(), true],
    ["a SubmissionError caused by a ClientException", submission(clientError()), true],
    ["ServerException (HTTP 500)", serverError(), false],
    ["throttling that outlasted every retry (HTTP 429)", new BatchServiceException({ name: "TooManyRequestsException", $fault: "client", $metadata: { httpStatusCode: 429 }, message: "" }), false],
    ["a timeout", timeout(), false],
    ["an expired token (HTTP 400, passes once credentials refresh)", new BatchServiceException({ name: "ExpiredTokenException", $fault: "client", $metadata: { httpStatusCode: 400 }, message: "" }), false],
    ["a wait that gave up", new WaitError("gone"), false],
    ["a SubmissionError without a cause (jobs still stopping)", submission(undefined), false],
  ])("%s → %s", (_what, error, deterministic) => {
    expect(isDeterministicFailure(error)).toBe(deterministic);
  });
});
