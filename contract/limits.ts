/**
 * Batch and ECS limits the trigger, the orchestrator and the stack config all respect, the start job's
 * exit codes, and the names the planner and infra agree on. Facts and sources: docs/aws-batch-limits.md.
 * Pure code: no imports (see contract/index.ts).
 */

/** Batch job names have at most 128 characters. */
export const MAX_JOB_NAME_CHARS = 128;

/** Batch job names: 1 to 128 characters, first alphanumeric, then letters, digits, `-` and `_`. */
export const JOB_NAME_PATTERN = new RegExp(`^[A-Za-z0-9][A-Za-z0-9_-]{0,${MAX_JOB_NAME_CHARS - 1}}$`);

/** Length of a run id. */
export const RUN_ID_CHARS = 24;

/** Run ids are computed by the S3 trigger: 24 lowercase hex characters, one per object version. */
export const RUN_ID_PATTERN = new RegExp(`^[0-9a-f]{${RUN_ID_CHARS}}$`);

/**
 * Job names of a run. ListJobs' `JOB_NAME` filter matches an exact name or a prefix (a value ending in
 * `*`), never a suffix, so every name a run uses BEGINS with its run id: process and barrier jobs are
 * `<runId>-<id>` ({@link runJobNamePrefix}), start jobs `start-<runId>[-<readable tail of the key>]`
 * ({@link startJobNamePrefix}). A run id is hex, so the two prefixes never match each other's jobs, even
 * when the start and process queues are the same queue.
 */
export const START_JOB_NAME_PREFIX = "start";

/** Every process and barrier job name of `runId` starts with this. */
export function runJobNamePrefix(runId: string): string {
  return `${runId}-`;
}

/** Every start job name of `runId` starts with this (and may continue with `-` and a readable tail). */
export function startJobNamePrefix(runId: string): string {
  return `${START_JOB_NAME_PREFIX}-${runId}`;
}

/** S3 object keys are at most 1,024 bytes of UTF-8 (S3 user guide, "Naming Amazon S3 objects"). */
export const S3_MAX_KEY_BYTES = 1024;

/** Key in the job definitions map (`PIPELINE_JOB_DEFINITIONS`) of the no-op job definition barrier jobs use. */
export const BARRIER_JOB_DEFINITION_KEY = "barrier";

/**
 * Exit codes of the start job. Distinct so its retry strategy (`evaluateOnExit`) retries only what may
 * succeed next time. Also exported by jobs/orchestrator.ts.
 */
export const EXIT_CODES = {
  ok: 0,
  /** `--wait`: a job of the DAG failed. A retry would find the same DAG, so do not retry on this. */
  runFailed: 1,
  /** Bad environment, flags or workflow, or a workflow that cannot be planned. Deterministic: never retry. */
  invalidInput: 2,
  /**
   * Batch calls failed in a way that may pass next time (HTTP 5xx, throttling that outlasted every retry,
   * a network error or timeout, an earlier attempt's jobs still stopping, waiting failed), after cleanup.
   * Retried.
   */
  submissionFailed: 3,
  /**
   * Batch refused a call deterministically (HTTP 4xx other than 429: ClientException for an inactive or
   * unknown job definition or queue, AccessDeniedException, a validation error), after cleanup. The same
   * call would be refused again, and each retry would resubmit and tear down the DAG: never retry.
   */
  submissionRejected: 4,
  /** Uncaught error in the orchestrator (a bug). */
  crashed: 70,
  /**
   * SIGTERM (while submitting or waiting). Retried: Batch only retries it after a Spot reclaim anyway,
   * because a job stopped by TerminateJob or by its timeout is never retried. A retried attempt finds the
   * complete DAG and waits for it again, or replaces a partial one.
   */
  interrupted: 143,
} as const;

/**
 * ECS refuses to start a task whose container overrides are longer than this: "Container Overrides length
 * must be at most 8192" (ECS RunTask API reference, `overrides`). SubmitJob (30 KiB) accepts such a job;
 * it then FAILS when Batch starts its task, and is not retried. Seen on Batch in Netflix/metaflow#977
 * and ASFHyP3/hyp3#3041.
 */
export const MAX_CONTAINER_OVERRIDES_CHARS = 8192;

/**
 * The variables Batch adds to a job's container overrides, each at its longest: the job id (a 36-character
 * UUID, then `:` and an array index of up to 4 digits, or `#` and a node index), the attempt (retries go up
 * to 10), the array index and size, the queue and compute environment names (up to 128 characters each) and
 * the multi-node variables. Not every job gets all of them; the headroom assumes it does.
 */
export const BATCH_INJECTED_ENVIRONMENT_WORST_CASE: readonly { name: string; value: string }[] = [
  { name: "AWS_BATCH_JOB_ID", value: `${"0".repeat(36)}:9999` },
  { name: "AWS_BATCH_JOB_ATTEMPT", value: "10" },
  { name: "AWS_BATCH_JOB_ARRAY_INDEX", value: "9999" },
  { name: "AWS_BATCH_JOB_ARRAY_SIZE", value: "10000" },
  { name: "AWS_BATCH_JQ_NAME", value: "q".repeat(128) },
  { name: "AWS_BATCH_CE_NAME", value: "c".repeat(128) },
  { name: "AWS_BATCH_JOB_MAIN_NODE_INDEX", value: "9999" },
  { name: "AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS", value: "255.255.255.255" },
  { name: "AWS_BATCH_JOB_NODE_INDEX", value: "9999" },
  { name: "AWS_BATCH_JOB_NUM_NODES", value: "10000" },
];

/**
 * What Batch's variables add to the JSON of a job's container overrides at most: each entry as JSON, and
 * the comma that joins it to the `environment` array (`[...]` minus its two brackets, plus one comma for
 * the first entry). Computed, so it follows the list above.
 */
export const CONTAINER_OVERRIDES_HEADROOM_CHARS = JSON.stringify(BATCH_INJECTED_ENVIRONMENT_WORST_CASE).length - 2 + 1;
