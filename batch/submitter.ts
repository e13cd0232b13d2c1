/**
 * Submits a plan to AWS Batch.
 *
 * Idempotency: SubmitJob has no client token, so the run's job names are the only handle on what an
 * earlier attempt did. Before submitting, the submitter lists the run's jobs by name prefix and either
 * reuses a complete DAG or terminates a partial one (and waits until it has stopped): see ./attempts. If
 * submission fails part-way it terminates what it submitted and throws, so the next attempt starts clean:
 * nothing orphaned, nothing doubled. Within one call, a SubmitJob that may have created its job is never
 * retried blindly: see ./submitJob.
 */
import {
  assessExistingJobs,
  listRunJobs,
  rolledBackReason,
  SubmissionError,
  TERMINATION_REASON_PREFIX,
  terminateOrThrow,
  waitUntilStopped,
  type StopDeps,
  type SubmittedJob,
} from "./attempts";
import { abortedError, summaryFields, terminateJobs } from "./calls";
import { describeError } from "../contract/errors";
import { silentLogger } from "../contract/log";
import type { Plan, PlannedJob } from "../workflow/planner";
import { submitJob, terminateDuplicates, type SubmitJobDeps, type SubmitSession } from "./submitJob";

/** Options of {@link submitPlan}. */
export interface SubmitPlanDeps extends SubmitJobDeps, StopDeps {
  /**
   * SubmitJob calls in flight at once. Jobs whose dependencies are all submitted go in parallel.
   * @default 4
   */
  concurrency?: number;
  /** The start job's attempt (`AWS_BATCH_JOB_ATTEMPT`), for logs and termination reasons. @default 1 */
  attempt?: number;
  /** Aborting (e.g. on SIGTERM) stops submitting and terminates what was submitted, like a failure. */
  signal?: AbortSignal;
}

/** Result of {@link submitPlan}. */
export interface SubmitResult {
  /** `submitted`: this call submitted the DAG. `existing`: an earlier attempt had; nothing was submitted. */
  outcome: "submitted" | "existing";
  /** The DAG's jobs, in plan order. */
  jobs: SubmittedJob[];
  /** Jobs of earlier attempts that this call terminated (a partial DAG, or stale leftovers). */
  terminated: string[];
  /**
   * Jobs with a planned name that an ambiguous SubmitJob of this call created but the name lookup did not
   * find in time (so the job was submitted again): terminated once the DAG was in place.
   */
  duplicates: string[];
}

/**
 * Submits `plan`, or returns the DAG an earlier attempt of the same run already submitted.
 *
 * Choice for a partial DAG (an earlier attempt died between its first and last SubmitJob without
 * cleaning up): terminate it, wait until every one of its jobs has stopped (bounded; past the bound the
 * call fails as retryable and submits nothing), and submit the whole plan again, rather than resume it. Resuming would
 * make new jobs depend on old ones that may have failed or been cancelled (and a dependent of a failed
 * job fails at once), and would mix two attempts' jobs in one DAG. A plan is at most a few hundred
 * SubmitJob calls, so resubmitting is cheap; re-running an already finished step is the price, and
 * steps must be idempotent anyway because Batch retries tasks.
 *
 * Two start jobs of the same run must not both get here: Batch has no conditional create, so two
 * listing at the same moment would both submit. The CLI calls `findOwningStartJob` (./ownership) first.
 * @throws {SubmissionError} after terminating what this call submitted.
 */
export async function submitPlan(plan: Plan, deps: SubmitPlanDeps): Promise<SubmitResult> {
  const log = deps.log ?? silentLogger;
  const attempt = deps.attempt ?? 1;
  const reason = (why: string) => `${TERMINATION_REASON_PREFIX} run ${plan.runId} attempt ${attempt}: ${why}`;

  const listed = await listRunJobs(plan, deps);
  const found = assessExistingJobs(plan, listed, deps.ownJobId);
  if (found.unknown.length > 0) {
    log.warn("jobs with the run's name prefix that are not in the plan; leaving them alone", { jobs: found.unknown.map(summaryFields) });
  }

  if (found.kind === "complete") {
    // Leftovers of an attempt before the complete one; failing to stop them must not fail the run,
    // whose DAG is in place: log them for an operator instead.
    const { terminated, failed } = await terminateJobs(found.stale.map((j) => j.jobId!), reason("stale job of an earlier attempt"), deps);
    if (failed.length > 0) log.error("could not terminate stale jobs of an earlier attempt", { jobIds: failed });
    log.info("the run's DAG already exists; not submitting a second one", { attempt, jobs: found.jobs.length, terminatedStale: terminated.length });
    return { outcome: "existing", jobs: found.jobs, terminated, duplicates: [] };
  }

  let terminated: string[] = [];
  if (found.kind === "partial") {
    log.warn("a partial DAG of an earlier attempt exists; terminating it and submitting the whole plan once it has stopped", {
      attempt,
      found: found.present,
      planned: plan.jobs.length,
      terminating: found.stale.length,
    });
    const why = reason("replacing a partial DAG of an earlier attempt");
    terminated = await terminateOrThrow(found.stale, why, deps, "the partial DAG of an earlier attempt");
    await waitUntilStopped(terminated, why, deps);
  }

  const session: SubmitSession = { jobQueue: plan.jobQueue, earlier: new Set(listed.map((j) => j.jobId!)), ambiguous: 0 };
  const submitted: SubmittedJob[] = [];
  try {
    const ids = await submitInDependencyOrder(plan, deps, session, (job) => submitted.push(job));
    const duplicates = session.ambiguous > 0 ? await terminateDuplicates(plan, session, new Set(ids.values()), reason("duplicate created by an ambiguous SubmitJob"), deps) : [];
    log.info("submitted the run's DAG", { attempt, jobs: plan.jobs.length, tasks: plan.taskCount, ...(session.ambiguous > 0 ? { ambiguousSubmitJobFailures: session.ambiguous, duplicatesTerminated: duplicates.length } : {}) });
    return { outcome: "submitted", jobs: plan.jobs.map((j) => ({ id: j.id, jobName: j.request.jobName, jobId: ids.get(j.id)! })), terminated, duplicates };
  } catch (cause) {
    log.error("submission failed; terminating what this attempt submitted", { attempt, submitted: submitted.length, error: cause });
    // Dependents first, so nothing downstream can start while its parents are being cancelled.
    const ids = submitted.map((j) => j.jobId).reverse();
    const why = rolledBackReason(plan.runId, attempt, submitted.length, plan.jobs.length);
    const result = await terminateJobs(ids, why, deps);
    if (session.ambiguous > 0) {
      // A job an ambiguous SubmitJob created and this attempt never adopted would otherwise be orphaned.
      try {
        result.terminated.push(...(await terminateDuplicates(plan, session, new Set(ids), why, deps)));
      } catch (error) {
        log.error("could not look for or terminate duplicates created by ambiguous SubmitJob calls; the next attempt's listing finds them", { error });
      }
    }
    throw new SubmissionError(
      `run ${plan.runId}: submission failed after ${submitted.length} of ${plan.jobs.length} jobs (${describeError(cause)}); ` +
        `terminated ${result.terminated.length}` +
        (result.failed.length > 0 ? `, could NOT terminate ${result.failed.join(", ")}` : ""),
      { cause, submitted, terminated: result.terminated, terminationFailures: result.failed },
    );
  }
}

/**
 * Submits every job once all of its dependencies have Batch ids, at most `concurrency` at a time.
 * Stops starting new submissions at the first failure (or abort) and rejects once the in-flight ones settle.
 */
async function submitInDependencyOrder(plan: Plan, deps: SubmitPlanDeps, session: SubmitSession, onSubmitted: (job: SubmittedJob) => void): Promise<Map<string, string>> {
  const concurrency = Math.max(1, deps.concurrency ?? 4);
  const ids = new Map<string, string>();
  const waitingOn = new Map<string, number>();
  const dependents = new Map<string, PlannedJob[]>();
  const ready: PlannedJob[] = [];
  for (const job of plan.jobs) {
    waitingOn.set(job.id, job.dependsOn.length);
    for (const dep of job.dependsOn) {
      const list = dependents.get(dep.id);
      if (list) list.push(job);
      else dependents.set(dep.id, [job]);
    }
    if (job.dependsOn.length === 0) ready.push(job);
  }

  return new Promise((resolve, reject) => {
    let next = 0; // index into `ready`: shifting a long array is quadratic
    let inFlight = 0;
    let failure: { error: unknown } | undefined;
    const pump = () => {
      if (!failure && deps.signal?.aborted) failure = { error: abortedError(deps.signal) };
      if (failure) {
        if (inFlight === 0) reject(failure.error);
        return;
      }
      if (ids.size === plan.jobs.length) return resolve(ids);
      if (inFlight === 0 && next === ready.length) return reject(new Error("plan has a dependency on a job that is not in the plan"));
      while (inFlight < concurrency && next < ready.length) {
        const job = ready[next++];
        inFlight++;
        submitJob(job, ids, deps, session).then(
          (jobId) => {
            ids.set(job.id, jobId);
            onSubmitted({ id: job.id, jobName: job.request.jobName, jobId });
            for (const dependent of dependents.get(job.id) ?? []) {
              const left = waitingOn.get(dependent.id)! - 1;
              waitingOn.set(dependent.id, left);
              if (left === 0) ready.push(dependent);
            }
          },
          (error: unknown) => {
            failure ??= { error };
          },
        ).finally(() => {
          inFlight--;
          pump();
        });
      }
    };
    pump();
  });
}
