/**
 * Every environment variable name the pipeline passes between infra/, the S3 trigger (functions/) and the
 * orchestrator (jobs/). Pure constants: no imports (see contract/index.ts).
 */

/**
 * Name of the variable that carries the stack's id (its resource prefix) to both the trigger and the
 * start job: they tag every job they submit with it (`TAG_KEYS.stack`, contract/tags.ts).
 */
export const STACK_ENV = "PIPELINE_STACK";

/** Environment variables the trigger Lambda reads. infra/ sets them on the function. */
export const TRIGGER_ENV = {
  /** Required. Name or ARN of the queue start jobs go to. */
  startQueue: "START_QUEUE",
  /** Required. Name (latest active revision) or ARN of the start job definition. */
  startJobDefinition: "START_JOB_DEFINITION",
  /** Required. Name of the idempotency table (schema: `IDEMPOTENCY_TABLE_SCHEMA`, contract/codec.ts). */
  idempotencyTable: "IDEMPOTENCY_TABLE",
  /**
   * Required. The stack's id (its resource prefix), the value of the `TAG_KEYS.stack` tag on every
   * start job: IAM lets the orchestrator terminate only jobs tagged with its own stack. 1 to 256
   * characters that a tag value allows.
   */
  stack: STACK_ENV,
  /** Optional. How long a submitted object version is remembered, in seconds. @default 604800 (7 days) */
  idempotencySeconds: "IDEMPOTENCY_TTL_SECONDS",
  /** Optional. Keys under this prefix never start a run (where the pipeline writes). @default "" (none) */
  ignorePrefix: "IGNORE_PREFIX",
  /**
   * Required. The input bucket's name: a record for any other bucket (a forged or mis-routed event) starts
   * no run. The notification already comes from this bucket only; the handler checks it again, because
   * anyone who may invoke the function can send any event.
   */
  bucket: "TRIGGER_BUCKET",
  /** Optional. `trigger.prefix`: a record whose key is not under it starts no run (checked again, as `bucket`). @default "" (any key) */
  keyPrefix: "TRIGGER_PREFIX",
  /** Optional. `trigger.suffix`: a record whose key does not end with it starts no run (checked again, as `bucket`). @default "" (any key) */
  keySuffix: "TRIGGER_SUFFIX",
  /** Optional. JSON object of extra cost-allocation tags for start jobs (`encodeTags`). @default {} */
  jobTags: "START_JOB_TAGS",
  /** Optional. Fair-share identifier; required when the start queue has a scheduling policy. @default none */
  shareIdentifier: "START_SHARE_IDENTIFIER",
  /**
   * Optional. `orchestrator.mode` (`ORCHESTRATOR_MODES`, contract/orchestration.ts): with `inline` or `auto` the
   * trigger submits runs' DAGs itself, and the next three are required. @default container
   */
  orchestratorMode: "ORCHESTRATOR_MODE",
  /** With `orchestratorMode` inline or auto: name or ARN of the queue process jobs go to (the start job's too). */
  processQueue: "PIPELINE_PROCESS_QUEUE",
  /** With `orchestratorMode` inline or auto: workflow job definition key → job definition name (`encodeJobDefinitions`). */
  jobDefinitions: "PIPELINE_JOB_DEFINITIONS",
  /** Optional, with `orchestratorMode` inline or auto: the stack's `trigger.outputPrefix` (`PIPELINE_OUTPUT_ROOT`). */
  outputRoot: "PIPELINE_OUTPUT_ROOT",
} as const;

/** Environment variables of the start job. */
export const START_JOB_ENV = {
  /** Deterministic id of one workflow run: one per object version. */
  runId: "PIPELINE_RUN_ID",
  bucket: "PIPELINE_INPUT_BUCKET",
  /** The decoded object key (never URL-encoded). */
  key: "PIPELINE_INPUT_KEY",
  /** Empty when the bucket is unversioned. */
  versionId: "PIPELINE_INPUT_VERSION_ID",
  /** Object size in bytes, as a decimal string. */
  size: "PIPELINE_INPUT_SIZE",
  eTag: "PIPELINE_INPUT_ETAG",
  /** Set by infra on the start job definition: the workflow spec as JSON (`encodeWorkflow`). */
  workflow: "PIPELINE_WORKFLOW",
  /** Set by infra: name or ARN of the queue that process jobs go to. */
  processQueue: TRIGGER_ENV.processQueue,
  /** Set by infra: JSON object mapping a workflow job definition key to a job definition name (`encodeJobDefinitions`). */
  jobDefinitions: TRIGGER_ENV.jobDefinitions,
  /** Set by infra: JSON object of the stack's tags, added to every process job (cost allocation; `encodeTags`). Optional. */
  jobTags: "PIPELINE_JOB_TAGS",
  /**
   * Set by infra: the stack's resource prefix, the value of the `TAG_KEYS.stack` tag on every job.
   * The start job's role may terminate only jobs that carry it.
   */
  stack: STACK_ENV,
  /**
   * Set by infra: the stack's `trigger.outputPrefix`, under which every run gets its own prefix
   * (`runOutputPrefix`): what the planner sets as `PIPELINE_OUTPUT_PREFIX` on each task. Optional: without
   * it (a start job of a deploy from before per-run prefixes) the planner sets no prefix.
   */
  outputRoot: TRIGGER_ENV.outputRoot,
} as const;

/**
 * Batch job parameters of the start job, and of every task job too (the same values as the environment,
 * for `Ref::` substitution). Built by `inputParameters` (contract/codec.ts).
 */
export const START_JOB_PARAMETERS = {
  runId: "runId",
  bucket: "bucket",
  key: "key",
  versionId: "versionId",
  size: "size",
} as const;

/** Batch job parameters the planner adds to {@link START_JOB_PARAMETERS} on task jobs (the values of {@link TASK_ENV}). */
export const TASK_PARAMETERS = {
  step: "step",
  taskCount: "taskCount",
  arrayOffset: "arrayOffset",
  /** Steps with `width.perChunkBytes` only: the value of {@link TASK_ENV.chunkBytes}. */
  chunkBytes: "chunkBytes",
  /** The value of {@link TASK_ENV.outputPrefix}, when the planner knows the stack's output root. */
  outputPrefix: "outputPrefix",
} as const;

/**
 * Environment the orchestrator sets on every job it submits, on top of the input object's
 * `PIPELINE_RUN_ID`/`PIPELINE_INPUT_*` variables (same names as {@link START_JOB_ENV}).
 * A task's index within its step is `PIPELINE_ARRAY_OFFSET + (AWS_BATCH_JOB_ARRAY_INDEX ?? 0)`,
 * from 0 to `PIPELINE_TASK_COUNT - 1`.
 */
export const TASK_ENV = {
  step: "PIPELINE_STEP",
  /** Width of the step: how many tasks it has in total, over all of its jobs. */
  taskCount: "PIPELINE_TASK_COUNT",
  /** Index of this job's first task within the step (steps wider than one array job are split). */
  arrayOffset: "PIPELINE_ARRAY_OFFSET",
  /** Set by infra on process job definitions: the bucket results go to (the input bucket). */
  outputBucket: "PIPELINE_OUTPUT_BUCKET",
  /**
   * Where this run's results go: `<trigger.outputPrefix><runId>/` (`runOutputPrefix`), set by the planner
   * on every task, so two runs (two objects, or two versions of one key) never write the same key. IAM
   * grants the whole `trigger.outputPrefix`, so a merge may read every run's results.
   */
  outputPrefix: "PIPELINE_OUTPUT_PREFIX",
  /**
   * Steps with `width.perChunkBytes` only: the bytes each task covers. Task `i` (see above) reads bytes
   * `[i * PIPELINE_CHUNK_BYTES, min((i + 1) * PIPELINE_CHUNK_BYTES, PIPELINE_INPUT_SIZE))` of the input,
   * an empty range when the start is past the end (a width raised by `min`). It is `perChunkBytes`, or
   * more when `max` capped the width (`chunkBytesOf`), so the ranges always cover the whole object.
   * A record may straddle a boundary: the task whose range holds its first byte owns it.
   */
  chunkBytes: "PIPELINE_CHUNK_BYTES",
} as const;

/**
 * What only `batch-pipeline run` (a local run) sets in a task's environment: the input file and the
 * output directory that stand in for the bucket. In AWS a job reads
 * `s3://$PIPELINE_INPUT_BUCKET/$PIPELINE_INPUT_KEY` (version `$PIPELINE_INPUT_VERSION_ID`) and writes under
 * `s3://$PIPELINE_OUTPUT_BUCKET/$PIPELINE_OUTPUT_PREFIX`; locally the same variables are set to the same
 * values, and these two say where the object and the prefix really are: job code that finds
 * `PIPELINE_INPUT_PATH` set reads that file instead, and writes what it would put under the output prefix
 * into `PIPELINE_OUTPUT_DIR` (same relative keys). Never set in AWS.
 */
export const LOCAL_TASK_ENV = {
  inputPath: "PIPELINE_INPUT_PATH",
  outputDir: "PIPELINE_OUTPUT_DIR",
} as const;
