/**
 * The Batch calls the orchestrator makes, with the retries each may have: the two clients (one that the
 * SDK retries, one for SubmitJob that it never does), a backoff for throttling that outlasts the SDK's
 * retries, the listing, describing and terminating every other module builds on, and how a failed call
 * is classified (throttled, refused by Batch, or ambiguous).
 */
import {
  BatchClient,
  type BatchClientConfig,
  DescribeJobsCommand,
  ListJobsCommand,
  TerminateJobCommand,
  type JobDetail,
  type JobStatus,
  type JobSummary,
} from "@aws-sdk/client-batch";
import { silentLogger, type Logger } from "../contract";

/** The part of a Batch client the orchestrator uses; a `BatchClient` or a test stub. */
export type BatchApi = Pick<BatchClient, "send">;

/** Default attempts per Batch call (first try included) before an error reaches the orchestrator. */
export const DEFAULT_MAX_ATTEMPTS = 10;

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

/** Options every Batch call of the orchestrator takes (submitting, waiting, ownership). */
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

/** The statuses a job never leaves. */
export const TERMINAL: ReadonlySet<JobStatus | undefined> = new Set<JobStatus | undefined>(["SUCCEEDED", "FAILED"]);

export const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** True for Batch's HTTP 429 `TooManyRequestsException` and generic AWS throttling errors. */
export function isThrottlingError(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  return e?.name === "TooManyRequestsException" || e?.name === "ThrottlingException" || e?.$metadata?.httpStatusCode === 429;
}

/** How the SDK describes a service error: its HTTP status and whose fault the model says it is. */
export type ServiceErrorShape = { name?: string; $fault?: "client" | "server"; $metadata?: { httpStatusCode?: number } } | undefined;

/** An HTTP 4xx answer, or a modelled client-fault error (ClientException, AccessDeniedException…). */
export function isClientError(error: unknown): boolean {
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

const BACKOFF_BASE_MS = 1_000;
const BACKOFF_CAP_MS = 20_000;

/**
 * The SDK's adaptive retries come first; a throttling error that still surfaces means the account is
 * saturated (other runs submitting too), so back off for longer rather than fail the whole run.
 */
export async function withThrottleRetry<T>(call: () => Promise<T>, deps: BatchDeps, what: string): Promise<T> {
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

/**
 * Every job on `jobQueue` whose name matches `name` (exact, or a prefix ending in `*`), all pages. With a
 * `filters` entry ListJobs ignores `jobStatus` and returns jobs in every status (newest first, at most
 * 100 a page, array children not included).
 */
export async function listJobsNamed(jobQueue: string, name: string, deps: BatchDeps): Promise<JobSummary[]> {
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

/**
 * The children of array job `arrayJobId` in each of `statuses`, every page, each with its status.
 * ListJobs lists children only by `arrayJobId` and one `jobStatus` at a time (without one, only RUNNING
 * children; ListJobs API reference). Stops after a page that brings the count to `limit`.
 */
export async function listArrayChildren(arrayJobId: string, statuses: readonly JobStatus[], deps: BatchDeps, limit = Infinity): Promise<JobSummary[]> {
  const children: JobSummary[] = [];
  for (const jobStatus of statuses) {
    let nextToken: string | undefined;
    do {
      const page = await withThrottleRetry(() => deps.batch.send(new ListJobsCommand({ arrayJobId, jobStatus, nextToken })), deps, "ListJobs");
      for (const child of page.jobSummaryList ?? []) if (child.jobId) children.push({ ...child, status: child.status ?? jobStatus });
      nextToken = page.nextToken;
    } while (nextToken && children.length < limit);
    if (children.length >= limit) break;
  }
  return children;
}

/** DescribeJobs takes at most 100 ids per call. */
export const DESCRIBE_JOBS_BATCH = 100;

/** The jobs DescribeJobs shows of `jobIds`, {@link DESCRIBE_JOBS_BATCH} ids a call. */
export async function describeJobs(jobIds: readonly string[], deps: BatchDeps): Promise<JobDetail[]> {
  const details: JobDetail[] = [];
  for (let i = 0; i < jobIds.length; i += DESCRIBE_JOBS_BATCH) {
    const jobs = jobIds.slice(i, i + DESCRIBE_JOBS_BATCH);
    const out = await withThrottleRetry(() => deps.batch.send(new DescribeJobsCommand({ jobs })), deps, "DescribeJobs");
    details.push(...(out.jobs ?? []));
  }
  return details;
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

/** A listed job as log fields. */
export function summaryFields(job: JobSummary) {
  return { jobName: job.jobName, jobId: job.jobId, status: job.status };
}
