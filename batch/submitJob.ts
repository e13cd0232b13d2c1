/**
 * One SubmitJob without a client token. A SubmitJob that fails with a 5xx, a timeout or a broken
 * connection may still have created its job, so it is never retried blindly (the SDK does not retry it,
 * see `createSubmitBatchClient` in batch/clients.ts): the job is looked up by its name first, and once
 * the DAG is in place a job that bears a planned name but that the submitter does not know is terminated.
 */
import type { JobDependency } from "@aws-sdk/client-batch";
import { listRunJobs, TERMINATION_REASON_PREFIX, terminateOrThrow } from "./attempts";
import {
  abortedError,
  DEFAULT_MAX_ATTEMPTS,
  defaultSleep,
  isAmbiguousSubmitFailure,
  isTerminal,
  listJobsNamed,
  summaryFields,
  withThrottleRetry,
  type BatchApi,
  type BatchDeps,
} from "./calls";
import { silentLogger } from "../contract/log";
import type { Plan, PlannedJob } from "../workflow/planner";

/**
 * Throttled SubmitJob calls the submitter retries by default: the {@link BatchDeps.throttleRetries} every
 * call gets, plus the retries the SDK would have made had it been allowed to retry SubmitJob.
 */
export const DEFAULT_SUBMIT_THROTTLE_RETRIES = 8 + DEFAULT_MAX_ATTEMPTS - 1;

/** Options of {@link submitJob} and {@link terminateDuplicates}. */
export interface SubmitJobDeps extends BatchDeps {
  /**
   * The client SubmitJob goes through. It must not retry SubmitJob by itself (`createSubmitBatchClient`, batch/clients.ts).
   * @default batch
   */
  submitBatch?: BatchApi;
  /**
   * How often to retry a throttled SubmitJob (the SDK does not).
   * @default throttleRetries if set, else DEFAULT_SUBMIT_THROTTLE_RETRIES (17)
   */
  submitThrottleRetries?: number;
  /**
   * ListJobs calls (by the exact job name) that look for the job an ambiguous SubmitJob failure may have
   * created, before concluding it was not created. ListJobs is eventually consistent, so they back off:
   * the first at once, then after 1, 2, 4, 8… s (capped at 8 s).
   * @default 5 (15 s in all)
   */
  lookupPolls?: number;
  /**
   * How often one job is submitted again after ambiguous failures whose lookup found nothing.
   * @default 2
   */
  maxResubmits?: number;
  /** The start job's own id (`AWS_BATCH_JOB_ID`): never treated as part of the DAG, never terminated. */
  ownJobId?: string;
  /**
   * Once aborted (SIGTERM, the inline trigger's budget), a throttled SubmitJob is not retried and an ambiguous
   * one's lookup stops: nothing more is submitted, and the time left goes to undoing what was (the submitter's
   * cleanup, whose listing finds what an ambiguous call created). @default never
   */
  signal?: AbortSignal;
}

/** What one `submitPlan` call knows while submitting. */
export interface SubmitSession {
  jobQueue: string;
  /** Ids of the run's jobs listed before submitting: an earlier attempt's, never adopted as this one's. */
  earlier: ReadonlySet<string>;
  /** SubmitJob failures so far that may have created their job. */
  ambiguous: number;
}

/**
 * One SubmitJob, retried only where no job can have been created: throttling (HTTP 429), with backoff.
 * After an ambiguous failure the job is looked up by name; only when no new job has that name is it
 * submitted again (at most `maxResubmits` times).
 */
export async function submitJob(job: PlannedJob, ids: ReadonlyMap<string, string>, deps: SubmitJobDeps, session: SubmitSession): Promise<string> {
  const log = deps.log ?? silentLogger;
  const name = job.request.jobName;
  const dependsOn: JobDependency[] = job.dependsOn.map((d) => ({ jobId: ids.get(d.id)!, ...(d.type ? { type: d.type } : {}) }));
  const input = { ...job.request, ...(dependsOn.length > 0 ? { dependsOn } : {}) };
  const client = deps.submitBatch ?? deps.batch;
  const throttleRetries = deps.submitThrottleRetries ?? deps.throttleRetries ?? DEFAULT_SUBMIT_THROTTLE_RETRIES;
  const maxResubmits = deps.maxResubmits ?? 2;
  // Once the caller aborted (the inline budget spent, SIGTERM), or its sleep refused a backoff (the inline trigger's
  // budget, functions/inline.ts), a throttled call created nothing: its error is final, not an ambiguous failure to look up.
  const stop = stopWhenAborted(deps);
  for (let resubmits = 0; ; resubmits++) {
    try {
      const out = await withThrottleRetry(() => client.send(new deps.commands.SubmitJobCommand(input)), { ...deps, sleep: stop.sleep, throttleRetries }, `SubmitJob ${name}`);
      if (!out.jobId) throw new Error(`SubmitJob ${name} returned no jobId`);
      return out.jobId;
    } catch (error) {
      if (stop.stopped || !isAmbiguousSubmitFailure(error)) throw error;
      session.ambiguous++;
      log.warn("SubmitJob failed in a way that may have created the job; looking for it by name", { jobName: name, error });
      const created = await findCreatedJob(name, session, { ...deps, sleep: stop.sleep });
      if (created) {
        log.info("the failed SubmitJob had created the job; using it", { jobName: name, jobId: created });
        return created;
      }
      if (resubmits >= maxResubmits) throw error;
      log.warn("no job of that name was created; submitting it again", { jobName: name, resubmit: resubmits + 1 });
    }
  }
}

/**
 * A sleep that fails, and says it `stopped`, once `deps.signal` is aborted (checked before and after sleeping), or
 * when the caller's own sleep refuses to wait (the inline trigger's budget).
 */
function stopWhenAborted(deps: SubmitJobDeps): { sleep: (ms: number) => Promise<void>; stopped: boolean } {
  const sleep = deps.sleep ?? defaultSleep;
  const stop = {
    stopped: false,
    sleep: async (ms: number) => {
      const check = () => {
        if (!deps.signal?.aborted) return;
        stop.stopped = true;
        throw abortedError(deps.signal);
      };
      check();
      try {
        await sleep(ms);
      } catch (error) {
        stop.stopped = true;
        throw error;
      }
      check();
    },
  };
  return stop;
}

const LOOKUP_BASE_MS = 1_000;
const LOOKUP_CAP_MS = 8_000;

/**
 * The job named `name` that this call's ambiguous SubmitJob created, if ListJobs shows it within
 * `lookupPolls` polls: one that was not listed before this call started submitting and that no attempt
 * terminated. Of several (more than one ambiguous call created one), the oldest; the others are
 * duplicates that {@link terminateDuplicates} stops.
 */
async function findCreatedJob(name: string, session: SubmitSession, deps: SubmitJobDeps): Promise<string | undefined> {
  const polls = Math.max(1, deps.lookupPolls ?? 5);
  const sleep = deps.sleep ?? defaultSleep;
  for (let poll = 0; poll < polls; poll++) {
    if (poll > 0) await sleep(Math.min(LOOKUP_CAP_MS, LOOKUP_BASE_MS * 2 ** (poll - 1)));
    const named = await listJobsNamed(session.jobQueue, name, deps);
    const created = named
      .filter((j) => j.jobName === name && j.jobId && !session.earlier.has(j.jobId) && !(j.statusReason ?? "").startsWith(TERMINATION_REASON_PREFIX))
      .sort((a, b) => (a.createdAt ?? 0) - (b.createdAt ?? 0));
    if (created.length > 0) return created[0].jobId;
  }
  return undefined;
}

/**
 * After ambiguous SubmitJob failures: lists the run's jobs once more and terminates every unfinished one
 * that bears a planned name but is neither one of `known` (this call's jobs) nor listed before this call
 * submitted anything. Such a job was created by an ambiguous call whose lookup missed it (ListJobs is
 * eventually consistent), and would otherwise run the step a second time.
 * @throws {SubmissionError} when one cannot be terminated
 */
export async function terminateDuplicates(plan: Plan, session: SubmitSession, known: ReadonlySet<string>, reason: string, deps: SubmitJobDeps): Promise<string[]> {
  const planned = new Set(plan.jobs.map((j) => j.request.jobName));
  const listed = await listRunJobs(plan, deps);
  const duplicates = listed.filter(
    (j) => j.jobId && j.jobName && planned.has(j.jobName) && !known.has(j.jobId) && !session.earlier.has(j.jobId) && j.jobId !== deps.ownJobId && !isTerminal(j.status),
  );
  if (duplicates.length === 0) return [];
  (deps.log ?? silentLogger).warn("jobs created by ambiguous SubmitJob calls that the lookup missed; terminating them", { jobs: duplicates.map(summaryFields) });
  return terminateOrThrow(duplicates, reason, deps, "duplicate jobs created by ambiguous SubmitJob calls");
}
