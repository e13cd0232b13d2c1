import { describe, expect, it } from "vitest";
import { SubmissionError, TERMINATION_REASON_PREFIX } from "../../batch/attempts";
import { planWorkflow } from "../../workflow/planner";
import { defaultWorkflow } from "../../workflow/spec";
import { submitPlan } from "../../batch/submitter";
import { recordingLogger } from "../support/recordingLogger";
import { clientError, mockBatch, NAME, serverError, timeout, tooManyRequests } from "../jobs/fakeBatch";
import { context, RUN_ID } from "../jobs/fixtures";

const { batch, commands, clock, sleep, fakeBatch, submitted, terminated, listInputs } = mockBatch();

// SubmitJob has no client token, and a 5xx, a timeout or a reset connection can come after Batch created
// the job. Retrying it blindly runs the step twice (a 10,000-task array doubles), so the submitter looks
// the job up by its unique name before submitting again, and stops any duplicate it finds later.
describe("submitPlan: ambiguous SubmitJob failures (no client token)", () => {
  const plan = () => planWorkflow(defaultWorkflow(3), context());

  it.each([
    ["an HTTP 500", serverError],
    ["a timeout (no response at all)", timeout],
  ])("after %s that followed the job's creation, adopts the job found by its exact name: one job per planned name", async (_what, error) => {
    const batch$ = fakeBatch().fail(NAME("process"), { creates: true, error });

    const result = await submitPlan(plan(), { batch, commands, sleep: clock.sleep });

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
    const batch$ = fakeBatch().fail(NAME("prepare"), { creates: true, error: serverError, listLag: 3 });

    const result = await submitPlan(plan(), { batch, commands, sleep: clock.sleep });

    expect(clock.slept).toEqual([1_000, 2_000, 4_000]); // missed three times, found on the fourth poll
    expect(batch$.named(NAME("prepare"))).toHaveLength(1);
    expect(result.jobs[0].jobId).toBe(batch$.named(NAME("prepare"))[0].jobId);
    expect(submitted().filter((s) => s.jobName === NAME("prepare"))).toHaveLength(1);
  });

  it("submits again only when the lookup finds no new job of that name (the failed call created nothing)", async () => {
    const batch$ = fakeBatch().fail(NAME("merge"), { creates: false, error: serverError });

    const result = await submitPlan(plan(), { batch, commands, sleep: clock.sleep, lookupPolls: 3 });

    expect(clock.slept).toEqual([1_000, 2_000]);
    expect(submitted().filter((s) => s.jobName === NAME("merge"))).toHaveLength(2);
    expect(batch$.live(NAME("merge"))).toHaveLength(1);
    expect(result.duplicates).toEqual([]);
  });

  it("never adopts an earlier attempt's job of the same name (listed before this attempt submitted)", async () => {
    const batch$ = fakeBatch().fail(NAME("prepare"), { creates: false, error: serverError });
    // An earlier attempt's prepare that finished, next to a later planned name that was never submitted.
    batch$.add({ jobId: "old-prepare", jobName: NAME("prepare"), status: "SUCCEEDED", createdAt: 1 });

    const result = await submitPlan(plan(), { batch, commands, sleep, lookupPolls: 2 });

    expect(result.jobs[0].jobId).not.toBe("old-prepare");
    expect(submitted().filter((s) => s.jobName === NAME("prepare"))).toHaveLength(2);
    expect(batch$.named(NAME("process"))[0].dependsOn).toEqual([{ jobId: result.jobs[0].jobId }]);
  });

  it("terminates a ghost the lookup missed (created by the failed call, listed only later) once the DAG is in place", async () => {
    // Hidden from the 5 lookups, visible to the listing after the DAG is submitted.
    const batch$ = fakeBatch().fail(NAME("process"), { creates: true, error: serverError, listLag: 5 });
    const log = recordingLogger();

    const result = await submitPlan(plan(), { batch, commands, sleep, log, attempt: 2 });

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
    fakeBatch();
    await submitPlan(plan(), { batch, commands, sleep });
    expect(listInputs()).toHaveLength(1);
  });

  it("treats a client error (HTTP 4xx: Batch refused it, created nothing) as final: no lookup, no resubmission", async () => {
    fakeBatch().fail(NAME("process"), { creates: false, error: clientError });
    await expect(submitPlan(plan(), { batch, commands, sleep })).rejects.toThrow(/ClientException: Job definition is INACTIVE/);
    expect(submitted().filter((s) => s.jobName === NAME("process"))).toHaveLength(1);
    expect(listInputs()).toHaveLength(1);
  });

  it("treats a throttled call whose backoff the caller's sleep refuses (the inline trigger's budget) as final: no lookup, nothing to look for", async () => {
    fakeBatch().fail(NAME("process"), { creates: false, error: tooManyRequests });
    const log = recordingLogger();
    const refuse = () => Promise.reject(new Error("past the invocation's budget"));
    await expect(submitPlan(plan(), { batch, commands, sleep: refuse, log })).rejects.toThrow(/after 1 of 3 jobs \(Error: past the invocation's budget\)/);
    expect(listInputs()).toHaveLength(1);
    expect(log.lines.map((l) => l.message)).not.toContain("SubmitJob failed in a way that may have created the job; looking for it by name");
  });

  it("gives up after `maxResubmits`, and also stops a ghost the failed calls created, so nothing is orphaned", async () => {
    const batch$ = fakeBatch().fail(
      NAME("merge"),
      { creates: true, error: serverError, listLag: 2 },
      { creates: false, error: serverError },
    );

    const error = (await submitPlan(plan(), { batch, commands, sleep, lookupPolls: 1, maxResubmits: 1 }).catch((e: unknown) => e)) as SubmissionError;

    expect(error).toBeInstanceOf(SubmissionError);
    expect(error.message).toMatch(/submission failed after 2 of 3 jobs \(ServerException: Internal Server Error\); terminated 3$/);
    expect(submitted().filter((s) => s.jobName === NAME("merge"))).toHaveLength(2);
    for (const id of ["prepare", "process", "merge"]) expect(batch$.live(NAME(id)), id).toEqual([]);
    expect(error.details.terminated).toContain(batch$.named(NAME("merge"))[0].jobId);
  });
});
