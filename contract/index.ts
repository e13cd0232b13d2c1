/**
 * The contract between the S3 trigger (functions/), the orchestrator start job (jobs/) and the
 * infrastructure that wires them (infra/). Pure constants and types: no imports, so it is safe to
 * capture in the serialized Lambda and cheap to load in the container.
 */

export * from "./env";
export * from "./codec";

/**
 * Tag keys the pipeline puts on every job it submits (cost allocation and tracing). `stack` is also
 * what IAM keys on: the orchestrator may terminate only jobs tagged with its own stack
 * (`aws:ResourceTag/pipeline:stack`), and submitters may send only these keys and the stack's own tags
 * (`aws:TagKeys`).
 */
export const TAG_KEYS = {
  runId: "pipeline:run-id",
  bucket: "pipeline:input-bucket",
  key: "pipeline:input-key",
  step: "pipeline:step",
  stack: "pipeline:stack",
} as const;

/** Batch: a job's tags, with those of its job definition when `propagateTags` is on, are at most 50. */
export const MAX_TAGS_PER_JOB = 50;
/** How many of those the pipeline itself uses on every job ({@link TAG_KEYS}). */
export const PIPELINE_TAG_COUNT = Object.keys(TAG_KEYS).length;

/** The object a run processes. */
export interface InputObject {
  bucket: string;
  /** Decoded key. */
  key: string;
  /** Undefined for unversioned buckets. */
  versionId?: string;
  sizeBytes: number;
  eTag?: string;
}

/** Batch job names: 1 to 128 characters, first alphanumeric, then letters, digits, `-` and `_`. */
export const JOB_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

/** Run ids are computed by the S3 trigger: 24 lowercase hex characters, one per object version. */
export const RUN_ID_PATTERN = /^[0-9a-f]{24}$/;

/**
 * Exit codes of the start job. Distinct so its retry strategy (`evaluateOnExit`) retries only what may
 * succeed next time. Also exported by jobs/cli.ts.
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

/** AWS tag values: at most 256 characters. */
export const MAX_TAG_VALUE_CHARS = 256;

/**
 * AWS tag values allow letters, digits, whitespace and `_ . : / = + - @`, up to 256 characters. S3 keys
 * allow anything, so other characters become `_` and long values are cut (by code point, so a surrogate
 * pair is never split). The tag is for finding and costing runs; the exact key is in the job's environment.
 * Shared by the S3 trigger and the planner, so a run's jobs and its start job carry the same tags.
 */
export function sanitizeTagValue(value: string): string {
  const cleaned = value.replace(/[^\p{L}\p{N}\p{Z}_.:/=+\-@]/gu, "_");
  const chars = Array.from(cleaned);
  return chars.length <= MAX_TAG_VALUE_CHARS ? cleaned : chars.slice(0, MAX_TAG_VALUE_CHARS).join("");
}

/**
 * Every tag key a job of the pipeline can carry: the stack's own tags and {@link TAG_KEYS}. The
 * submitters' IAM grants allow exactly these (`aws:TagKeys`), so a key outside this list is denied.
 */
export function jobTagKeys(stackTags: Readonly<Record<string, string>>): string[] {
  return [...new Set([...Object.keys(stackTags), ...Object.values(TAG_KEYS)])].sort();
}

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
