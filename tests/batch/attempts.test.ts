import { BatchServiceException, DescribeJobsCommand, TerminateJobCommand, type JobStatus, type JobSummary } from "@aws-sdk/client-batch";
import { describe, expect, it } from "vitest";
import { assessExistingJobs, isDeterministicFailure, SubmissionError, TERMINATION_REASON_PREFIX } from "../../batch/attempts";
import { planWorkflow } from "../../workflow/planner";
import { defaultWorkflow } from "../../workflow/spec";
import { submitPlan } from "../../batch/submitter";
import { WaitError } from "../../jobs/wait";
import { accessDenied, clientError, mockBatch, NAME, serverError, timeout } from "../jobs/fakeBatch";
import { context, RUN_ID } from "../jobs/fixtures";

const { batchMock, batch, commands, clock, sleep, fakeBatch, submitted, terminated, listInputs } = mockBatch();

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

// TerminateJob only asks: a RUNNING job gets SIGTERM, then SIGKILL 30 s later, and a PENDING one is
// cancelled only once its dependencies finish (TerminateJob / CancelJob API reference, job states). Old and
// new tasks of one run must not run side by side, so the new DAG waits until the old one has stopped.
describe("submitPlan: an earlier attempt's partial DAG is stopped before anything new is submitted", () => {
  const plan = () => planWorkflow(defaultWorkflow(3), context());
  const order = () => batchMock.calls().map((c) => c.args[0].constructor.name.replace(/Command$/, ""));

  it("polls DescribeJobs until every terminated job is FAILED (they stay RUNNING for a few polls), then submits", async () => {
    const batch$ = fakeBatch();
    batch$.add({ jobId: "old-prepare", jobName: NAME("prepare"), status: "RUNNING", createdAt: 1, stopsAfterMs: 30_000 });

    const result = await submitPlan(plan(), { batch, commands, sleep: clock.sleep, attempt: 2 });

    expect(result.terminated).toEqual(["old-prepare"]);
    expect(clock.slept).toEqual([5_000, 10_000, 20_000]);
    expect(order()).toEqual(["ListJobs", "TerminateJob", "DescribeJobs", "DescribeJobs", "DescribeJobs", "DescribeJobs", "SubmitJob", "SubmitJob", "SubmitJob"]);
    expect(batch$.named(NAME("prepare"))[0].status).toBe("FAILED");
  });

  it("terminates an array parent's RUNNING, STARTING and RUNNABLE children: cancelling the PENDING parent does not stop started ones", async () => {
    const batch$ = fakeBatch();
    batch$.add({ jobId: "old-prepare", jobName: NAME("prepare"), status: "SUCCEEDED", createdAt: 1 });
    batch$.add({ jobId: "old-process", jobName: NAME("process"), status: "PENDING", createdAt: 2, arrayProperties: { size: 4 } });
    batch$.addChildren("old-process", [{ status: "RUNNING" }, { status: "STARTING" }, { status: "RUNNABLE", outlivesCancel: true }, { status: "SUCCEEDED" }]);

    const result = await submitPlan(plan(), { batch, commands, sleep: clock.sleep });

    expect(result.outcome).toBe("submitted");
    expect(terminated().map((t) => t.jobId)).toEqual(["old-process", "old-process:0", "old-process:1", "old-process:2"]);
    expect(listInputs().filter((i) => i.arrayJobId)).toEqual(
      ["RUNNING", "STARTING", "RUNNABLE"].map((jobStatus) => ({ arrayJobId: "old-process", jobStatus, nextToken: undefined })),
    );
    expect(order().indexOf("SubmitJob")).toBeGreaterThan(order().lastIndexOf("DescribeJobs"));
  });

  it("fails as retryable, submitting nothing, when they still run after the bound (10 minutes by default)", async () => {
    const batch$ = fakeBatch();
    batch$.add({ jobId: "old-prepare", jobName: NAME("prepare"), status: "RUNNING", createdAt: 1, stuck: true });

    const error = (await submitPlan(plan(), { batch, commands, sleep: clock.sleep, terminationWaitMs: 60_000 }).catch((e: unknown) => e)) as SubmissionError;

    expect(error).toBeInstanceOf(SubmissionError);
    expect(error.message).toBe("1 job(s) of an earlier attempt still not finished 65 s after TerminateJob (old-prepare); not submitting while they may run, a later attempt tries again");
    expect(clock.slept).toEqual([5_000, 10_000, 20_000, 30_000]);
    expect(submitted()).toEqual([]);
    expect(isDeterministicFailure(error)).toBe(false); // exit code 3: retried
  });

  it("stops waiting, submitting nothing, when aborted (SIGTERM)", async () => {
    const batch$ = fakeBatch();
    batch$.add({ jobId: "old-prepare", jobName: NAME("prepare"), status: "RUNNING", createdAt: 1, stuck: true });
    const controller = new AbortController();
    const aborting = async () => controller.abort("SIGTERM");

    await expect(submitPlan(plan(), { batch, commands, sleep: aborting, signal: controller.signal })).rejects.toThrow(/^aborted \(SIGTERM\) while waiting/);
    expect(batchMock.commandCalls(DescribeJobsCommand)).toHaveLength(1);
    expect(submitted()).toEqual([]);
  });

  it("describes at most 100 jobs per DescribeJobs call while waiting", async () => {
    const wide = planWorkflow(defaultWorkflow(1_000_000), context());
    const batch$ = fakeBatch();
    // Every planned job but the last: a partial DAG of 106 live jobs.
    wide.jobs.slice(0, -1).forEach((j, i) => batch$.add({ jobId: `old-${i}`, jobName: j.request.jobName, status: "RUNNING", createdAt: 1, stopsAfterMs: 5_000 }));

    await submitPlan(wide, { batch, commands, sleep });

    expect(batchMock.commandCalls(DescribeJobsCommand).map((c) => c.args[0].input.jobs!.length)).toEqual([100, 6, 100, 6]);
  });

  it("a partial DAG that cannot be terminated because IAM denies it is a deterministic failure (not retried)", async () => {
    const batch$ = fakeBatch();
    batch$.add({ jobId: "old-prepare", jobName: NAME("prepare"), status: "RUNNING", createdAt: 1 });
    batchMock.on(TerminateJobCommand).rejects(accessDenied());

    const error = await submitPlan(plan(), { batch, commands, sleep }).catch((e: unknown) => e);

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
