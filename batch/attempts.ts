/**
 * A start job's attempts (Batch retries the start job) and what an earlier one left behind. SubmitJob
 * has no client token, so the run's job names are the only handle on what an earlier attempt did: its
 * jobs are listed by the run's name prefix and either make up a complete DAG, which is reused, or a
 * partial one, which is terminated and waited for until every job of it has stopped. A failed attempt
 * reports a {@link SubmissionError}, and {@link isDeterministicFailure} tells whether the next attempt
 * would only fail the same way.
 */
import type { JobSummary } from "@aws-sdk/client-batch";
import {
  defaultSleep,
  describeJobs,
  isClientError,
  isTerminal,
  isThrottlingError,
  listArrayChildren,
  listJobsNamed,
  terminateJobs,
  type BatchDeps,
  type ServiceErrorShape,
} from "./calls";
import { describeError, keepErrorFields } from "../contract";
import { silentLogger } from "../contract/log";
import type { Plan } from "../workflow/planner";

/** Every TerminateJob reason starts with this, which is how a later attempt tells our cancellations apart. */
export const TERMINATION_REASON_PREFIX = "pipeline-orchestrator:";

/** What the reason of a job terminated because its own attempt's submission failed says after the run and attempt. */
const ROLLED_BACK = "submission failed";

/** The TerminateJob reason of a job withdrawn because its attempt's submission failed (the run is submitted again whole). */
export function rolledBackReason(runId: string, attempt: number, submitted: number, planned: number): string {
  return `${TERMINATION_REASON_PREFIX} run ${runId} attempt ${attempt}: ${ROLLED_BACK} after ${submitted} of ${planned} jobs`;
}

/**
 * True for a job (its `statusReason`) the submitter withdrew because its own attempt's submission of run `runId`
 * failed ({@link rolledBackReason}, exactly): not a failure of the run, whose next attempt (the start job's retry,
 * or the trigger's) submits the DAG again. Another run's reason, or a look-alike, is not.
 */
export function isRolledBack(statusReason: string | undefined, runId: string): boolean {
  const head = `${TERMINATION_REASON_PREFIX} run ${runId} attempt `;
  return statusReason !== undefined && statusReason.startsWith(head) && new RegExp(`^[1-9]\\d*: ${ROLLED_BACK} after \\d+ of \\d+ jobs$`).test(statusReason.slice(head.length));
}

/** A job of the plan and the Batch job that runs it. */
export interface SubmittedJob {
  /** Plan-local id. */
  id: string;
  jobName: string;
  jobId: string;
}

/** Submitting a plan failed; whatever this attempt submitted has been terminated (see `terminationFailures`). */
export class SubmissionError extends Error {
  constructor(
    message: string,
    readonly details: {
      cause: unknown;
      /** Jobs this attempt submitted before the failure. */
      submitted: SubmittedJob[];
      /** Job ids that were terminated successfully (duplicates an ambiguous SubmitJob created included). */
      terminated: string[];
      /** Job ids that could not be terminated: they may still run and need a manual TerminateJob. */
      terminationFailures: string[];
    },
  ) {
    super(message, { cause: details.cause });
    keepErrorFields(this, "SubmissionError", message, { cause: details.cause });
  }
}

/**
 * HTTP 4xx answers that may pass next time: timeouts, and credentials or signatures that expired. An
 * array, not a `Set`: Pulumi's closure serializer captures a module-level `Set` as a plain object.
 */
const TRANSIENT_CLIENT_ERRORS: readonly string[] = ["RequestTimeout", "RequestTimeoutException", "ExpiredTokenException", "ExpiredToken", "RequestExpired"];

/**
 * True when an error (or a {@link SubmissionError}'s cause) would recur on a retry of the start job:
 * Batch refused the call as a client error, HTTP 4xx other than 429 (ClientException for an inactive or
 * unknown job definition or queue, a validation error, AccessDeniedException), or such a named error.
 * Throttling that outlasted every retry, 5xx, network errors and timeouts, and errors of the orchestrator's
 * own (a wait that gave up, jobs still stopping) are not.
 */
export function isDeterministicFailure(error: unknown): boolean {
  if (error instanceof SubmissionError) return error.cause !== undefined && isDeterministicFailure(error.cause);
  if (isThrottlingError(error)) return false;
  const e = error as ServiceErrorShape;
  if (e?.name !== undefined && TRANSIENT_CLIENT_ERRORS.includes(e.name)) return false;
  return isClientError(error) && e?.$metadata?.httpStatusCode !== 408;
}

/** The run's jobs on the plan's queue, in every status (see {@link listJobsNamed}). */
export async function listRunJobs(plan: Plan, deps: BatchDeps): Promise<JobSummary[]> {
  return listJobsNamed(plan.jobQueue, `${plan.jobNamePrefix}*`, deps);
}

/** What an earlier attempt left behind, as decided by {@link assessExistingJobs}. */
export type ExistingJobs =
  | { kind: "none"; stale: JobSummary[]; unknown: JobSummary[] }
  | { kind: "complete"; jobs: SubmittedJob[]; stale: JobSummary[]; unknown: JobSummary[] }
  | { kind: "partial"; present: number; stale: JobSummary[]; unknown: JobSummary[] };

/**
 * Pure: decides from a ListJobs result whether the plan's DAG exists. For each planned name the newest
 * job counts (a name can appear once per attempt). The DAG is complete when every planned name has a
 * newest job that we did not terminate ourselves; then older unfinished jobs with those names are stale.
 * Otherwise every unfinished job with a planned name is stale and must go before a fresh submission.
 */
export function assessExistingJobs(plan: Plan, listed: readonly JobSummary[], ownJobId?: string): ExistingJobs {
  const planned = new Map(plan.jobs.map((j) => [j.request.jobName, j]));
  const newest = new Map<string, JobSummary>();
  const ours: JobSummary[] = [];
  const unknown: JobSummary[] = [];
  for (const job of listed) {
    if (job.jobId === ownJobId) continue;
    if (!job.jobName || !planned.has(job.jobName)) {
      unknown.push(job);
      continue;
    }
    ours.push(job);
    const seen = newest.get(job.jobName);
    if (!seen || (job.createdAt ?? 0) > (seen.createdAt ?? 0)) newest.set(job.jobName, job);
  }
  if (ours.length === 0) return { kind: "none", stale: [], unknown };

  const unfinished = (j: JobSummary) => !isTerminal(j.status);
  const complete =
    newest.size === planned.size && [...newest.values()].every((j) => !(j.statusReason ?? "").startsWith(TERMINATION_REASON_PREFIX));
  if (complete) {
    const current = new Set([...newest.values()].map((j) => j.jobId));
    return {
      kind: "complete",
      jobs: plan.jobs.map((j) => ({ id: j.id, jobName: j.request.jobName, jobId: newest.get(j.request.jobName)!.jobId! })),
      stale: ours.filter((j) => !current.has(j.jobId) && unfinished(j)),
      unknown,
    };
  }
  return { kind: "partial", present: newest.size, stale: ours.filter(unfinished), unknown };
}

/**
 * Terminates `jobs` and returns their ids.
 * @throws {SubmissionError} (nothing submitted) when one of them cannot be terminated
 */
export async function terminateOrThrow(jobs: readonly JobSummary[], reason: string, deps: BatchDeps, what: string): Promise<string[]> {
  if (jobs.length === 0) return [];
  const result = await terminateJobs(
    jobs.map((j) => j.jobId!),
    reason,
    deps,
  );
  // Submitting while an old job may still run would double work; fail so the next attempt tries again
  // (unless the cause is deterministic, e.g. AccessDenied: see isDeterministicFailure).
  if (result.failed.length > 0) {
    throw new SubmissionError(`could not terminate ${what} (${result.failed.join(", ")}); not submitting`, {
      cause: result.error,
      submitted: [],
      terminated: result.terminated,
      terminationFailures: result.failed,
    });
  }
  return result.terminated;
}

/** Options of {@link waitUntilStopped}. */
export interface StopDeps extends BatchDeps {
  /**
   * How long to wait, after terminating an earlier attempt's partial DAG, until all of its jobs have
   * stopped (SUCCEEDED or FAILED); polls back off from 5 s to 30 s and the bound counts the time slept.
   * Past it the attempt fails as retryable without submitting.
   * @default 600,000 (10 minutes)
   */
  terminationWaitMs?: number;
  /** Aborting (e.g. on SIGTERM) stops the wait, and the attempt fails without submitting. */
  signal?: AbortSignal;
}

const STOP_POLL_BASE_MS = 5_000;
const STOP_POLL_CAP_MS = 30_000;
/** Array children that may run, or start, on their own after their parent was terminated. */
const LIVE_CHILD_STATUSES = ["RUNNING", "STARTING", "RUNNABLE"] as const;

/**
 * Waits until every job in `jobIds` (just terminated) is SUCCEEDED or FAILED, polling DescribeJobs (at
 * most 100 ids a call) with backoff, for at most `terminationWaitMs` of sleeping.
 *
 * TerminateJob only asks (TerminateJob and CancelJob API reference, job states): a RUNNING job gets
 * SIGTERM and SIGKILL about 30 s later, and only then turns FAILED; a PENDING job is cancelled only once
 * its dependencies have finished. Submitting before then would let old and new tasks of one run write
 * the same outputs side by side.
 *
 * Array parents: an array parent is never STARTING or RUNNING itself (it stays PENDING while children
 * run), so TerminateJob on it is a cancel, and per the CancelJob reference cancelling a PENDING array
 * parent "attempts to cancel all child jobs", while jobs that already progressed to STARTING or RUNNING
 * "aren't canceled ... These jobs must be terminated with the TerminateJob operation". So what this relies
 * on is only that the parent turns FAILED once all of its children have finished; children that are
 * RUNNING, STARTING or RUNNABLE (RUNNABLE ones, by older wording, stay RUNNABLE until they reach the head
 * of the queue) are found with ListJobs `arrayJobId` + `jobStatus` and terminated one by one, every poll
 * for new ones, while the parent lives.
 * @throws {SubmissionError} (retryable, no cause) when some are still not finished after the bound
 */
export async function waitUntilStopped(jobIds: readonly string[], reason: string, deps: StopDeps): Promise<void> {
  if (jobIds.length === 0) return;
  const log = deps.log ?? silentLogger;
  const sleep = deps.sleep ?? defaultSleep;
  const bound = deps.terminationWaitMs ?? 600_000;
  const childrenTerminated = new Set<string>();
  let pending = [...jobIds];
  let waited = 0;
  for (let poll = 0; ; poll++) {
    if (deps.signal?.aborted) {
      throw new SubmissionError(`aborted (${describeError(deps.signal.reason ?? "signal")}) while waiting for an earlier attempt's jobs to stop; nothing submitted`, {
        cause: undefined,
        submitted: [],
        terminated: [...jobIds],
        terminationFailures: [],
      });
    }
    const details = new Map((await describeJobs(pending, deps)).map((d) => [d.jobId, d]));
    // A job DescribeJobs does not show (yet) is not known to have stopped.
    pending = pending.filter((id) => !isTerminal(details.get(id)?.status));
    for (const id of pending) {
      const d = details.get(id);
      if (d?.arrayProperties?.size !== undefined && !id.includes(":")) await terminateArrayChildren(id, reason, childrenTerminated, deps);
    }
    if (pending.length === 0) {
      log.info("every job of the earlier attempt has stopped", { jobs: jobIds.length, waitedMs: waited, childrenTerminated: childrenTerminated.size });
      return;
    }
    if (waited >= bound) {
      throw new SubmissionError(
        `${pending.length} job(s) of an earlier attempt still not finished ${Math.round(waited / 1000)} s after TerminateJob ` +
          `(${pending.slice(0, 10).join(", ")}${pending.length > 10 ? ", …" : ""}); not submitting while they may run, a later attempt tries again`,
        { cause: undefined, submitted: [], terminated: [...jobIds], terminationFailures: [] },
      );
    }
    const delayMs = Math.min(STOP_POLL_CAP_MS, STOP_POLL_BASE_MS * 2 ** poll);
    log.info("waiting for the earlier attempt's jobs to stop", { stopping: pending.length, of: jobIds.length, delayMs });
    await sleep(delayMs);
    waited += delayMs;
  }
}

/** Terminates the children of array job `parentId` that are RUNNING, STARTING or RUNNABLE, except `done` ones. */
async function terminateArrayChildren(parentId: string, reason: string, done: Set<string>, deps: BatchDeps): Promise<void> {
  for (const jobStatus of LIVE_CHILD_STATUSES) {
    const ids = (await listArrayChildren(parentId, [jobStatus], deps)).map((j) => j.jobId!).filter((id) => !done.has(id));
    // A failed call is logged by terminateJobs; its child is tried again at the next poll.
    for (const id of (await terminateJobs(ids, reason, deps)).terminated) done.add(id);
  }
}
