/**
 * The Batch calls the orchestrator makes, with the retries each may have: a backoff for throttling that
 * outlasts the SDK's retries, the listing, describing and terminating every other module builds on, and
 * how a failed call is classified (throttled, refused by Batch, or ambiguous).
 *
 * No npm value and no Node builtin here, only `import type`: the orchestrator's submission is to be
 * serialized by value into the trigger Lambda. The command classes come in {@link BatchDeps.commands};
 * the clients and the real classes are made in `clients.ts`, which only the container and the CLI load.
 */
import type {
  BatchClient,
  DescribeJobsCommand,
  JobDetail,
  JobStatus,
  JobSummary,
  ListJobsCommand,
  SubmitJobCommand,
  TerminateJobCommand,
} from "@aws-sdk/client-batch";
import { describeError, silentLogger, type Logger } from "../contract";

/** The part of a Batch client the orchestrator uses; a `BatchClient` or a test stub. */
export type BatchApi = Pick<BatchClient, "send">;

/**
 * The SDK's command classes for every Batch call the orchestrator makes, injected: `@aws-sdk/client-batch`'s
 * own (`BATCH_COMMANDS` in `clients.ts`, or the exports of `require("@aws-sdk/client-batch")` in a Lambda),
 * so a mocked client (aws-sdk-client-mock's `on(SubmitJobCommand)`) still matches them. What the
 * orchestrator may send is exactly this list (tests/infra/iamSimulation.ts holds its IAM table to it).
 */
export interface BatchCommands {
  SubmitJobCommand: typeof SubmitJobCommand;
  ListJobsCommand: typeof ListJobsCommand;
  DescribeJobsCommand: typeof DescribeJobsCommand;
  TerminateJobCommand: typeof TerminateJobCommand;
}

/** Default attempts per Batch call (first try included) before an error reaches the orchestrator. */
export const DEFAULT_MAX_ATTEMPTS = 10;

/**
 * The settings of the client for read calls and TerminateJob (`createBatchClient`, clients.ts, and the trigger's
 * inline submission, which builds its client in the Lambda): `retryMode: "adaptive"` retries throttling (HTTP 429
 * TooManyRequestsException) with backoff and also rate-limits the client once it has been throttled, which suits
 * SubmitJob's ~50 calls/s account-wide limit; {@link DEFAULT_MAX_ATTEMPTS} attempts.
 */
export const BATCH_CLIENT_CONFIG = { retryMode: "adaptive", maxAttempts: DEFAULT_MAX_ATTEMPTS } as const;

/**
 * The settings of the client SubmitJob goes through: the SDK never retries it (`maxAttempts: 1`). SubmitJob has
 * no client token, and the SDK retries 5xx answers, timeouts and reset connections, any of which can come after
 * Batch created the job: a retry would then run the step twice. The submitter retries only what cannot have
 * created a job (throttling: HTTP 429) and looks the job up by name after anything ambiguous (submitJob.ts).
 * `retryMode: "adaptive"` is kept for its client-side rate limiter, which still learns from every 429 and paces
 * the next calls. The Batch client config has no per-command retry strategy, hence a client of its own.
 */
export const SUBMIT_CLIENT_CONFIG = { retryMode: "adaptive", maxAttempts: 1 } as const;

/** How a throttled call is retried ({@link withThrottleRetry}). */
export interface ThrottleDeps {
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

/** Options every Batch call of the orchestrator takes (submitting, waiting, ownership). */
export interface BatchDeps extends ThrottleDeps {
  batch: BatchApi;
  /** The command classes sent through `batch`. */
  commands: BatchCommands;
}

/**
 * True for the statuses a job never leaves, SUCCEEDED and FAILED. A function, not a module-level `Set`:
 * Pulumi's closure serializer captures a `Set` as a plain object, whose `has` then throws.
 */
export function isTerminal(status: JobStatus | undefined): boolean {
  return status === "SUCCEEDED" || status === "FAILED";
}

export const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The error a submission stops with once its signal is aborted (SIGTERM, the inline trigger's budget): the reason, described. */
export function abortedError(signal: AbortSignal): Error {
  return new Error(`aborted: ${describeError(signal.reason ?? "signal")}`);
}

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
export async function withThrottleRetry<T>(call: () => Promise<T>, deps: ThrottleDeps, what: string): Promise<T> {
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
      () => deps.batch.send(new deps.commands.ListJobsCommand({ jobQueue, filters: [{ name: "JOB_NAME", values: [name] }], nextToken })),
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
      const page = await withThrottleRetry(() => deps.batch.send(new deps.commands.ListJobsCommand({ arrayJobId, jobStatus, nextToken })), deps, "ListJobs");
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
    const out = await withThrottleRetry(() => deps.batch.send(new deps.commands.DescribeJobsCommand({ jobs })), deps, "DescribeJobs");
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
        await withThrottleRetry(() => deps.batch.send(new deps.commands.TerminateJobCommand({ jobId, reason })), deps, `TerminateJob ${jobId}`);
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
