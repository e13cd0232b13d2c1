/**
 * Submits a plan to AWS Batch and waits for it.
 *
 * Idempotency: SubmitJob has no client token, so the run's job names are the only handle on what an
 * earlier attempt did. Before submitting, the submitter lists the run's jobs by name prefix and either
 * reuses a complete DAG or terminates a partial one (and waits until it has stopped). If submission fails
 * part-way it terminates what it submitted and throws, so the next attempt starts clean: nothing
 * orphaned, nothing doubled.
 *
 * The same holds within one call: a SubmitJob that fails with a 5xx, a timeout or a broken connection may
 * still have created its job, so it is never retried blindly (the SDK does not retry it, see
 * {@link createSubmitBatchClient}); the job is looked up by its name first, and once the DAG is in place
 * a job that bears a planned name but that the submitter does not know is terminated.
 */
import {
  BatchClient,
  type BatchClientConfig,
  DescribeJobsCommand,
  ListJobsCommand,
  SubmitJobCommand,
  TerminateJobCommand,
  type JobDependency,
  type JobDetail,
  type JobStatus,
  type JobSummary,
} from "@aws-sdk/client-batch";
import { silentLogger, type Logger } from "./log";
import type { Plan, PlannedJob } from "./planner";

/** The part of a Batch client the submitter uses; a `BatchClient` or a test stub. */
export type BatchApi = Pick<BatchClient, "send">;

/** Default attempts per Batch call (first try included) before an error reaches the submitter. */
export const DEFAULT_MAX_ATTEMPTS = 10;

/**
 * Throttled SubmitJob calls the submitter retries by default: the {@link BatchDeps.throttleRetries} every
 * call gets, plus the retries the SDK would have made had it been allowed to retry SubmitJob.
 */
export const DEFAULT_SUBMIT_THROTTLE_RETRIES = 8 + DEFAULT_MAX_ATTEMPTS - 1;

/**
 * The Batch client the orchestrator uses: `retryMode: "adaptive"` retries throttling (HTTP 429
 * TooManyRequestsException) with backoff and also rate-limits the client once it has been throttled,
 * which suits SubmitJob's ~50 calls/s account-wide limit; `maxAttempts` 10. No endpoint or region is set
 * here: the SDK itself honours `AWS_ENDPOINT_URL_BATCH` / `AWS_ENDPOINT_URL` (e.g. a local emulator) and
 * `AWS_REGION`, which Batch sets in every container. `config` overrides (tests pass a `requestHandler`).
 */
export function createBatchClient(config: BatchClientConfig = {}): BatchClient {
  return new BatchClient({ retryMode: "adaptive", maxAttempts: DEFAULT_MAX_ATTEMPTS, ...config });
}

/**
 * The client SubmitJob goes through: the SDK never retries it (`maxAttempts: 1`, whatever `config` says).
 * SubmitJob has no client token, and the SDK retries 5xx answers, timeouts and reset connections, any of
 * which can come after Batch created the job: a retry would then run the step twice. The submitter
 * retries only what cannot have created a job (throttling: HTTP 429) and looks the job up by name after
 * anything ambiguous. `retryMode: "adaptive"` is kept for its client-side rate limiter, which still learns
 * from every 429 (the retry strategy sees the error before it refuses a second attempt) and paces the
 * next calls. The Batch client config has no per-command retry strategy, hence a client of its own; read
 * calls and TerminateJob keep {@link createBatchClient}'s retries.
 */
export function createSubmitBatchClient(config: BatchClientConfig = {}): BatchClient {
  return new BatchClient({ retryMode: "adaptive", ...config, maxAttempts: 1 });
}

/** Every TerminateJob reason starts with this, which is how a later attempt tells our cancellations apart. */
export const TERMINATION_REASON_PREFIX = "pipeline-orchestrator:";

/** Options shared by {@link submitPlan} and {@link waitForJobs}. */
export interface BatchDeps {
  batch: BatchApi;
  /** @default silentLogger */
  log?: Logger;
  /** Injectable so tests and the benchmark run on a simulated clock. @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
  /**
   * How often to retry a call that still fails with throttling after the SDK's own retries, with
   * exponential backoff and full jitter (1 s base, 20 s cap).
   * @default 8
   */
  throttleRetries?: number;
  /** Jitter source. @default Math.random */
  random?: () => number;
}

/** Options of {@link submitPlan}. */
export interface SubmitPlanDeps extends BatchDeps {
  /**
   * The client SubmitJob goes through. It must not retry SubmitJob by itself ({@link createSubmitBatchClient}).
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
  /**
   * How long to wait, after terminating an earlier attempt's partial DAG, until all of its jobs have
   * stopped (SUCCEEDED or FAILED); polls back off from 5 s to 30 s and the bound counts the time slept.
   * Past it the attempt fails as retryable without submitting.
   * @default 600,000 (10 minutes)
   */
  terminationWaitMs?: number;
  /**
   * SubmitJob calls in flight at once. Jobs whose dependencies are all submitted go in parallel.
   * @default 4
   */
  concurrency?: number;
  /** The start job's attempt (`AWS_BATCH_JOB_ATTEMPT`), for logs and termination reasons. @default 1 */
  attempt?: number;
  /** The start job's own id (`AWS_BATCH_JOB_ID`): never treated as part of the DAG, never terminated. */
  ownJobId?: string;
  /** Aborting (e.g. on SIGTERM) stops submitting and terminates what was submitted, like a failure. */
  signal?: AbortSignal;
}

/** A job of the plan and the Batch job that runs it. */
export interface SubmittedJob {
  /** Plan-local id. */
  id: string;
  jobName: string;
  jobId: string;
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

/** Submitting a plan failed; whatever this attempt submitted has been terminated (see `terminationFailures`). */
export class SubmissionError extends Error {
  override readonly name = "SubmissionError";
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
  }
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
 * listing at the same moment would both submit. The CLI calls {@link findOwningStartJob} first.
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
    const why = reason(`submission failed after ${submitted.length} of ${plan.jobs.length} jobs`);
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

/** What one {@link submitPlan} call knows while submitting. */
interface SubmitSession {
  jobQueue: string;
  /** Ids of the run's jobs listed before submitting: an earlier attempt's, never adopted as this one's. */
  earlier: ReadonlySet<string>;
  /** SubmitJob failures so far that may have created their job. */
  ambiguous: number;
}

/**
 * The run's jobs on the plan's queue. With a `filters` entry ListJobs ignores `jobStatus` and returns
 * jobs in every status (newest first, at most 100 a page, array children not included).
 */
export async function listRunJobs(plan: Plan, deps: BatchDeps): Promise<JobSummary[]> {
  return listJobsNamed(plan.jobQueue, `${plan.jobNamePrefix}*`, deps);
}

/** Every job on `jobQueue` whose name matches `name` (exact, or a prefix ending in `*`), all pages. */
async function listJobsNamed(jobQueue: string, name: string, deps: BatchDeps): Promise<JobSummary[]> {
  const jobs: JobSummary[] = [];
  let nextToken: string | undefined;
  do {
    const page = await withThrottleRetry(
      () => deps.batch.send(new ListJobsCommand({ jobQueue, filters: [{ name: "JOB_NAME", values: [name] }], nextToken })),
      deps,
      "ListJobs",
    );
    jobs.push(...(page.jobSummaryList ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return jobs;
}

/** A start job as far as deciding which one owns a run is concerned. */
export type StartJobRef = Pick<JobSummary, "jobId" | "createdAt" | "status">;

/**
 * Pure: the start job that owns the run, when it is not `own`. Every start job of one run has the same
 * name. The oldest live one owns the run (ties broken by job id). Finished ones do not count: one that
 * SUCCEEDED either submitted the DAG (which {@link submitPlan} then finds) or stood aside as a duplicate,
 * and one that FAILED gave up. Returns undefined when `own` is the owner.
 */
export function startJobOwner(own: StartJobRef, namesakes: readonly StartJobRef[]): StartJobRef | undefined {
  const key = (j: StartJobRef) => [j.createdAt ?? Number.MAX_SAFE_INTEGER, j.jobId ?? ""] as const;
  const before = (a: StartJobRef, b: StartJobRef) => {
    const [ta, ia] = key(a);
    const [tb, ib] = key(b);
    return ta < tb || (ta === tb && ia < ib);
  };
  let owner: StartJobRef | undefined;
  for (const job of namesakes) {
    // Live: may still submit (or be submitting) the run's DAG.
    if (job.jobId === own.jobId || job.status === undefined || TERMINAL.has(job.status)) continue;
    if (before(job, own) && (!owner || before(job, owner))) owner = job;
  }
  return owner;
}

/**
 * Another start job of the same run that owns it, or undefined when this one (`ownJobId`) does.
 *
 * Normally a run has one start job (the trigger deduplicates events). A second one appears when the
 * trigger's SubmitJob reached Batch but its response was lost and Lambda retried; run at the same
 * time, both would find no DAG and both would submit one. So each start job looks for namesakes on its
 * own queue first, and only the oldest live one goes on.
 */
export async function findOwningStartJob(ownJobId: string, deps: BatchDeps): Promise<StartJobRef | undefined> {
  const described = await withThrottleRetry(() => deps.batch.send(new DescribeJobsCommand({ jobs: [ownJobId] })), deps, "DescribeJobs");
  const own = described.jobs?.[0];
  if (!own?.jobName || !own.jobQueue) throw new Error(`DescribeJobs did not return this start job (${ownJobId})`);
  const namesakes = await listJobsNamed(own.jobQueue, own.jobName, deps);
  return startJobOwner(own, namesakes);
}

/** What an earlier attempt left behind, as decided by {@link assessExistingJobs}. */
export type ExistingJobs =
  | { kind: "none"; stale: JobSummary[]; unknown: JobSummary[] }
  | { kind: "complete"; jobs: SubmittedJob[]; stale: JobSummary[]; unknown: JobSummary[] }
  | { kind: "partial"; present: number; stale: JobSummary[]; unknown: JobSummary[] };

const TERMINAL: ReadonlySet<JobStatus | undefined> = new Set<JobStatus | undefined>(["SUCCEEDED", "FAILED"]);

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

  const unfinished = (j: JobSummary) => !TERMINAL.has(j.status);
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
      if (!failure && deps.signal?.aborted) failure = { error: new Error(`aborted: ${String(deps.signal.reason ?? "signal")}`) };
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

/**
 * One SubmitJob, retried only where no job can have been created: throttling (HTTP 429), with backoff.
 * After an ambiguous failure the job is looked up by name; only when no new job has that name is it
 * submitted again (at most `maxResubmits` times).
 */
async function submitJob(job: PlannedJob, ids: ReadonlyMap<string, string>, deps: SubmitPlanDeps, session: SubmitSession): Promise<string> {
  const log = deps.log ?? silentLogger;
  const name = job.request.jobName;
  const dependsOn: JobDependency[] = job.dependsOn.map((d) => ({ jobId: ids.get(d.id)!, ...(d.type ? { type: d.type } : {}) }));
  const input = { ...job.request, ...(dependsOn.length > 0 ? { dependsOn } : {}) };
  const client = deps.submitBatch ?? deps.batch;
  const throttleRetries = deps.submitThrottleRetries ?? deps.throttleRetries ?? DEFAULT_SUBMIT_THROTTLE_RETRIES;
  const maxResubmits = deps.maxResubmits ?? 2;
  for (let resubmits = 0; ; resubmits++) {
    try {
      const out = await withThrottleRetry(() => client.send(new SubmitJobCommand(input)), { ...deps, throttleRetries }, `SubmitJob ${name}`);
      if (!out.jobId) throw new Error(`SubmitJob ${name} returned no jobId`);
      return out.jobId;
    } catch (error) {
      if (!isAmbiguousSubmitFailure(error)) throw error;
      session.ambiguous++;
      log.warn("SubmitJob failed in a way that may have created the job; looking for it by name", { jobName: name, error });
      const created = await findCreatedJob(name, session, deps);
      if (created) {
        log.info("the failed SubmitJob had created the job; using it", { jobName: name, jobId: created });
        return created;
      }
      if (resubmits >= maxResubmits) throw error;
      log.warn("no job of that name was created; submitting it again", { jobName: name, resubmit: resubmits + 1 });
    }
  }
}

/** How the SDK describes a service error: its HTTP status and whose fault the model says it is. */
type ServiceErrorShape = { name?: string; $fault?: "client" | "server"; $metadata?: { httpStatusCode?: number } } | undefined;

/** An HTTP 4xx answer, or a modelled client-fault error (ClientException, AccessDeniedException…). */
function isClientError(error: unknown): boolean {
  const e = error as ServiceErrorShape;
  const status = e?.$metadata?.httpStatusCode;
  return status !== undefined ? status >= 400 && status < 500 : e?.$fault === "client";
}

/**
 * True when a SubmitJob failure may have come after Batch created the job: anything but throttling and
 * other HTTP 4xx client errors, which Batch answers before creating anything. A 5xx, a timeout, a reset
 * connection or an unreadable response all may.
 */
export function isAmbiguousSubmitFailure(error: unknown): boolean {
  return !isThrottlingError(error) && !isClientError(error);
}

const LOOKUP_BASE_MS = 1_000;
const LOOKUP_CAP_MS = 8_000;

/**
 * The job named `name` that this call's ambiguous SubmitJob created, if ListJobs shows it within
 * `lookupPolls` polls: one that was not listed before this call started submitting and that no attempt
 * terminated. Of several (more than one ambiguous call created one), the oldest; the others are
 * duplicates that {@link terminateDuplicates} stops.
 */
async function findCreatedJob(name: string, session: SubmitSession, deps: SubmitPlanDeps): Promise<string | undefined> {
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
async function terminateDuplicates(plan: Plan, session: SubmitSession, known: ReadonlySet<string>, reason: string, deps: SubmitPlanDeps): Promise<string[]> {
  const planned = new Set(plan.jobs.map((j) => j.request.jobName));
  const listed = await listRunJobs(plan, deps);
  const duplicates = listed.filter(
    (j) => j.jobId && j.jobName && planned.has(j.jobName) && !known.has(j.jobId) && !session.earlier.has(j.jobId) && j.jobId !== deps.ownJobId && !TERMINAL.has(j.status),
  );
  if (duplicates.length === 0) return [];
  (deps.log ?? silentLogger).warn("jobs created by ambiguous SubmitJob calls that the lookup missed; terminating them", { jobs: duplicates.map(summaryFields) });
  return terminateOrThrow(duplicates, reason, deps, "duplicate jobs created by ambiguous SubmitJob calls");
}

/** Result of {@link terminateJobs}. */
export interface TerminateResult {
  terminated: string[];
  failed: string[];
  /** The first error a TerminateJob call ended with, when any failed. */
  error?: unknown;
}

/** Terminates `jobIds` (concurrency 4, throttling retried) and reports which calls failed instead of throwing. */
export async function terminateJobs(jobIds: readonly string[], reason: string, deps: BatchDeps): Promise<TerminateResult> {
  const log = deps.log ?? silentLogger;
  const result: TerminateResult = { terminated: [], failed: [] };
  let next = 0;
  const worker = async () => {
    while (next < jobIds.length) {
      const jobId = jobIds[next++];
      try {
        await withThrottleRetry(() => deps.batch.send(new TerminateJobCommand({ jobId, reason })), deps, `TerminateJob ${jobId}`);
        result.terminated.push(jobId);
      } catch (error) {
        log.error("could not terminate job", { jobId, error });
        result.failed.push(jobId);
        if (!("error" in result)) result.error = error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(4, jobIds.length) }, worker));
  return result;
}

async function terminateOrThrow(jobs: readonly JobSummary[], reason: string, deps: SubmitPlanDeps, what: string): Promise<string[]> {
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
async function waitUntilStopped(jobIds: readonly string[], reason: string, deps: SubmitPlanDeps): Promise<void> {
  if (jobIds.length === 0) return;
  const log = deps.log ?? silentLogger;
  const sleep = deps.sleep ?? defaultSleep;
  const bound = deps.terminationWaitMs ?? 600_000;
  const childrenTerminated = new Set<string>();
  let pending = [...jobIds];
  let waited = 0;
  for (let poll = 0; ; poll++) {
    if (deps.signal?.aborted) {
      throw new SubmissionError(`aborted (${String(deps.signal.reason ?? "signal")}) while waiting for an earlier attempt's jobs to stop; nothing submitted`, {
        cause: undefined,
        submitted: [],
        terminated: [...jobIds],
        terminationFailures: [],
      });
    }
    const details = new Map((await describeJobs(pending, deps)).map((d) => [d.jobId, d]));
    // A job DescribeJobs does not show (yet) is not known to have stopped.
    pending = pending.filter((id) => !TERMINAL.has(details.get(id)?.status));
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
    let nextToken: string | undefined;
    do {
      const page = await withThrottleRetry(() => deps.batch.send(new ListJobsCommand({ arrayJobId: parentId, jobStatus, nextToken })), deps, "ListJobs");
      const ids = (page.jobSummaryList ?? []).map((j) => j.jobId!).filter((id) => id && !done.has(id));
      // A failed call is logged by terminateJobs; its child is tried again at the next poll.
      for (const id of (await terminateJobs(ids, reason, deps)).terminated) done.add(id);
      nextToken = page.nextToken;
    } while (nextToken);
  }
}

/** HTTP 4xx answers that may pass next time: timeouts, and credentials or signatures that expired. */
const TRANSIENT_CLIENT_ERRORS: ReadonlySet<string> = new Set(["RequestTimeout", "RequestTimeoutException", "ExpiredTokenException", "ExpiredToken", "RequestExpired"]);

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
  if (e?.name !== undefined && TRANSIENT_CLIENT_ERRORS.has(e.name)) return false;
  return isClientError(error) && e?.$metadata?.httpStatusCode !== 408;
}

/** True for Batch's HTTP 429 `TooManyRequestsException` and generic AWS throttling errors. */
export function isThrottlingError(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  return e?.name === "TooManyRequestsException" || e?.name === "ThrottlingException" || e?.$metadata?.httpStatusCode === 429;
}

const BACKOFF_BASE_MS = 1_000;
const BACKOFF_CAP_MS = 20_000;

/**
 * The SDK's adaptive retries come first; a throttling error that still surfaces means the account is
 * saturated (other runs submitting too), so back off for longer rather than fail the whole run.
 */
async function withThrottleRetry<T>(call: () => Promise<T>, deps: BatchDeps, what: string): Promise<T> {
  const retries = deps.throttleRetries ?? 8;
  const sleep = deps.sleep ?? defaultSleep;
  const random = deps.random ?? Math.random;
  for (let retry = 0; ; retry++) {
    try {
      return await call();
    } catch (error) {
      if (!isThrottlingError(error) || retry >= retries) throw error;
      const delayMs = Math.round(random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** retry));
      (deps.log ?? silentLogger).warn("throttled; backing off", { call: what, retry: retry + 1, delayMs });
      await sleep(delayMs);
    }
  }
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function summaryFields(job: JobSummary) {
  return { jobName: job.jobName, jobId: job.jobId, status: job.status };
}

/** Options of {@link waitForJobs}. */
export interface WaitDeps extends BatchDeps {
  /** @default 30,000 (Batch state changes take tens of seconds; polling faster only costs API calls) */
  pollIntervalMs?: number;
  /**
   * Polls in a row a job may be missing from DescribeJobs (it is eventually consistent just after
   * SubmitJob) before waiting gives up.
   * @default 5
   */
  maxMissingPolls?: number;
  /** @default Date.now */
  now?: () => number;
}

/** Result of {@link waitForJobs}. */
export interface WaitResult {
  outcome: "SUCCEEDED" | "FAILED";
  /** Jobs per status at the last poll. */
  counts: Partial<Record<JobStatus, number>>;
  /** The failed jobs (empty when all succeeded). */
  failed: { jobId: string; jobName?: string; statusReason?: string }[];
  elapsedMs: number;
}

/** Waiting could not finish: jobs vanished from DescribeJobs. */
export class WaitError extends Error {
  override readonly name = "WaitError";
}

/** DescribeJobs takes at most 100 ids per call. */
export const DESCRIBE_JOBS_BATCH = 100;

/**
 * Polls DescribeJobs until every job SUCCEEDED or any FAILED (a failed job fails its dependents, so
 * the run cannot succeed any more). Logs each job's state transitions and the counts per state.
 */
export async function waitForJobs(jobIds: readonly string[], deps: WaitDeps): Promise<WaitResult> {
  const log = deps.log ?? silentLogger;
  const sleep = deps.sleep ?? defaultSleep;
  const now = deps.now ?? Date.now;
  const pollIntervalMs = deps.pollIntervalMs ?? 30_000;
  const maxMissingPolls = deps.maxMissingPolls ?? 5;
  const started = now();
  const last = new Map<string, JobStatus>();
  let missingPolls = 0;
  let lastCountsLine = "";

  for (;;) {
    const details = await describeJobs(jobIds, deps);
    const byId = new Map(details.map((d) => [d.jobId, d]));
    const missing = jobIds.filter((id) => !byId.has(id));
    missingPolls = missing.length > 0 ? missingPolls + 1 : 0;
    if (missingPolls > maxMissingPolls) {
      throw new WaitError(`${missing.length} job(s) not found by DescribeJobs after ${missingPolls} polls: ${missing.slice(0, 10).join(", ")}`);
    }

    const counts: Partial<Record<JobStatus, number>> = {};
    const tasks: Record<string, number> = {};
    for (const d of details) {
      const status = d.status!;
      counts[status] = (counts[status] ?? 0) + 1;
      const before = last.get(d.jobId!);
      if (before !== status) {
        log.info("job state changed", { jobName: d.jobName, jobId: d.jobId, from: before ?? null, to: status, ...(d.statusReason ? { statusReason: d.statusReason } : {}) });
        last.set(d.jobId!, status);
      }
      for (const [state, n] of Object.entries(d.arrayProperties?.statusSummary ?? {})) tasks[state] = (tasks[state] ?? 0) + n;
    }
    const countsLine = JSON.stringify([counts, tasks]);
    if (countsLine !== lastCountsLine) {
      log.info("progress", { jobs: counts, arrayTasks: tasks, missing: missing.length });
      lastCountsLine = countsLine;
    }

    const failed = details.filter((d) => d.status === "FAILED");
    if (failed.length > 0) {
      const result: WaitResult = {
        outcome: "FAILED",
        counts,
        failed: failed.map((d) => ({ jobId: d.jobId!, jobName: d.jobName, statusReason: d.statusReason })),
        elapsedMs: now() - started,
      };
      log.error("the run failed", { failed: result.failed, elapsedMs: result.elapsedMs });
      return result;
    }
    if (missing.length === 0 && counts.SUCCEEDED === jobIds.length) {
      const result: WaitResult = { outcome: "SUCCEEDED", counts, failed: [], elapsedMs: now() - started };
      log.info("the run succeeded", { jobs: jobIds.length, elapsedMs: result.elapsedMs });
      return result;
    }
    await sleep(pollIntervalMs);
  }
}

async function describeJobs(jobIds: readonly string[], deps: BatchDeps): Promise<JobDetail[]> {
  const details: JobDetail[] = [];
  for (let i = 0; i < jobIds.length; i += DESCRIBE_JOBS_BATCH) {
    const jobs = jobIds.slice(i, i + DESCRIBE_JOBS_BATCH);
    const out = await withThrottleRetry(() => deps.batch.send(new DescribeJobsCommand({ jobs })), deps, "DescribeJobs");
    details.push(...(out.jobs ?? []));
  }
  return details;
}
