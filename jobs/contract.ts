/**
 * The contract between the S3 trigger (functions/), the orchestrator start job (jobs/) and the
 * infrastructure that wires them (infra/). Pure constants and types: no imports, so it is safe to
 * capture in the serialized Lambda and cheap to load in the container.
 */

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
  /** Set by infra on the start job definition: the workflow spec as JSON. */
  workflow: "PIPELINE_WORKFLOW",
  /** Set by infra: name or ARN of the queue that process jobs go to. */
  processQueue: "PIPELINE_PROCESS_QUEUE",
  /** Set by infra: JSON object mapping a workflow job definition key to a job definition name. */
  jobDefinitions: "PIPELINE_JOB_DEFINITIONS",
} as const;

/** Batch job parameters of the start job (the same values as the environment, for `Ref::` substitution). */
export const START_JOB_PARAMETERS = {
  runId: "runId",
  bucket: "bucket",
  key: "key",
  versionId: "versionId",
  size: "size",
} as const;

/** Tag keys the pipeline puts on every job it submits (cost allocation and tracing). */
export const TAG_KEYS = {
  runId: "pipeline:run-id",
  bucket: "pipeline:input-bucket",
  key: "pipeline:input-key",
  step: "pipeline:step",
} as const;

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
