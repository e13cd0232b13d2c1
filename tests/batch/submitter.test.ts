import { ClientException, DescribeJobsCommand, ListJobsCommand, SubmitJobCommand, TerminateJobCommand, type JobStatus, type JobSummary, type SubmitJobCommandInput } from "@aws-sdk/client-batch";
import { describe, expect, it } from "vitest";
import { SubmissionError, TERMINATION_REASON_PREFIX } from "../../batch/attempts";
import { planWorkflow, type Plan } from "../../workflow/planner";
import { defaultWorkflow, parseWorkflowSpec } from "../../workflow/spec";
import { submitPlan } from "../../batch/submitter";
import { recordingLogger } from "../support/recordingLogger";
import { idFor, mockBatch, tooManyRequests } from "../jobs/fakeBatch";
import { context, RUN_ID } from "../jobs/fixtures";

const { batchMock, batch, commands, sleep, submitted, terminated } = mockBatch();

function summaries(plan: Plan, overrides: Partial<JobSummary> = {}, ids = (name: string) => idFor(name)): JobSummary[] {
  return plan.jobs.map((j) => ({ jobName: j.request.jobName, jobId: ids(j.request.jobName), status: "RUNNABLE" as JobStatus, createdAt: 1_000, ...overrides }));
}

describe("submitPlan", () => {
  it("lists the run's jobs by name prefix on the queue before submitting", async () => {
    await submitPlan(planWorkflow(defaultWorkflow(3), context()), { batch, commands, sleep });
    expect(batchMock.commandCalls(ListJobsCommand).map((c) => c.args[0].input)).toEqual([
      { jobQueue: "process-queue", filters: [{ name: "JOB_NAME", values: [`${RUN_ID}-*`] }], nextToken: undefined },
    ]);
  });

  it("submits in dependency order and maps plan dependencies to Batch job ids", async () => {
    const plan = planWorkflow(defaultWorkflow(10_001), context());

    const result = await submitPlan(plan, { batch, commands, sleep, concurrency: 1 });

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

    await submitPlan(planWorkflow(spec, context()), { batch, commands, sleep, concurrency: 2 });

    expect(maxInFlight).toBe(2);
    expect(submitted().at(-1)!.dependsOn).toEqual([{ jobId: "id-b" }, { jobId: "id-a", type: "N_TO_N" }]);
  });

  it("backs off and retries when throttling still surfaces after the SDK's retries", async () => {
    batchMock
      .on(SubmitJobCommand)
      .rejectsOnce(tooManyRequests())
      .callsFake((input: SubmitJobCommandInput) => ({ jobId: idFor(input.jobName!), jobName: input.jobName }));
    const log = recordingLogger();

    const result = await submitPlan(planWorkflow(defaultWorkflow(3), context()), { batch, commands, sleep, log, random: () => 0.5, concurrency: 1 });

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

    const attempt = submitPlan(planWorkflow(defaultWorkflow(3), context()), { batch, commands, sleep, throttleRetries: 2, random: () => 1 });

    await expect(attempt).rejects.toThrow(SubmissionError);
    expect(sleep.mock.calls).toEqual([[1_000], [2_000]]);
    expect(terminated().map((t) => t.jobId)).toEqual(["id-process", "id-prepare"]);
  });

  it("terminates everything it submitted when a submission fails part-way, then rethrows", async () => {
    const plan = planWorkflow(defaultWorkflow(1_000_000), context());
    const failure = new ClientException({ message: "job definition not found", $metadata: {} });
    batchMock.on(SubmitJobCommand, { jobName: `${RUN_ID}-process-p50` }).rejects(failure);

    const error = await submitPlan(plan, { batch, commands, sleep, concurrency: 1, attempt: 2 }).catch((e: unknown) => e);

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

    const error = (await submitPlan(planWorkflow(defaultWorkflow(3), context()), { batch, commands, sleep }).catch((e: unknown) => e)) as SubmissionError;

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

    await expect(submitPlan(planWorkflow(defaultWorkflow(3), context()), { batch, commands, sleep, signal: controller.signal })).rejects.toThrow(/aborted: SIGTERM/);
    expect(submitted()).toHaveLength(1);
    expect(terminated().map((t) => t.jobId)).toEqual(["id-prepare"]);
  });

  it("retries no throttled SubmitJob once aborted (the inline trigger's budget spent mid-backoff), and terminates what it submitted", async () => {
    const controller = new AbortController();
    batchMock.on(SubmitJobCommand, { jobName: `${RUN_ID}-merge` }).rejects(tooManyRequests());
    // The budget ends during the first backoff: without the stop, the throttled SubmitJob would be retried
    // (17 times) into the time kept for undoing.
    const backoff = async (ms: number) => {
      await sleep(ms);
      controller.abort("the invocation's budget is spent");
    };

    const error = (await submitPlan(planWorkflow(defaultWorkflow(3), context()), { batch, commands, sleep: backoff, signal: controller.signal }).catch((e: unknown) => e)) as SubmissionError;

    expect(error).toBeInstanceOf(SubmissionError);
    expect(error.message).toMatch(/submission failed after 2 of 3 jobs \(Error: aborted: the invocation's budget is spent\); terminated 2$/);
    expect(submitted().map((s) => s.jobName)).toEqual([`${RUN_ID}-prepare`, `${RUN_ID}-process`, `${RUN_ID}-merge`]);
    expect(sleep).toHaveBeenCalledTimes(1);
    expect(terminated().map((t) => t.jobId)).toEqual(["id-process", "id-prepare"]);
  });

  it("does not submit a second DAG when a retried attempt finds the complete one", async () => {
    const plan = planWorkflow(defaultWorkflow(1_000_000), context());
    const existing = summaries(plan, {}, (name) => `old-${name}`);
    // ListJobs pages at 100 with a filter; the start job itself may match the prefix.
    batchMock
      .on(ListJobsCommand)
      .resolvesOnce({ jobSummaryList: existing.slice(0, 100), nextToken: "page-2" })
      .resolvesOnce({ jobSummaryList: [...existing.slice(100), { jobName: `${RUN_ID}-start`, jobId: "self", status: "RUNNING" }] });

    const result = await submitPlan(plan, { batch, commands, sleep, attempt: 2, ownJobId: "self" });

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

    const result = await submitPlan(plan, { batch, commands, sleep, log });

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

    const result = await submitPlan(plan, { batch, commands, sleep, attempt: 3, log });

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

    await expect(submitPlan(plan, { batch, commands, sleep })).rejects.toThrow("could not terminate the partial DAG of an earlier attempt (old-prepare); not submitting");
    expect(submitted()).toEqual([]);
  });
});
