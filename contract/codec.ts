/**
 * The values infra/ hands to the trigger (functions/) and the orchestrator (jobs/) through the
 * environment, and the input object passed from the trigger to the start job and from the start job to
 * every process job: one encoder and one decoder per JSON value, one builder each for the input object's
 * environment entries and parameters, so every room writes and reads them the same way. Decoders check
 * the shape only and return a {@link Decoded}; each reader maps a failure to its own error. Pure code: it
 * imports only contract/ itself (see contract/index.ts).
 */
import { START_JOB_ENV, START_JOB_PARAMETERS } from "./env";

/** A decoded value, or why it could not be decoded. */
export type Decoded<T> =
  | { ok: true; value: T }
  /** `message` is JSON.parse's. */
  | { ok: false; error: "json"; message: string }
  /** Valid JSON of the wrong shape; `message` is the rule, e.g. "must be a JSON object of string tags". */
  | { ok: false; error: "shape"; message: string };

function parseJson(json: string): Decoded<unknown> {
  try {
    return { ok: true, value: JSON.parse(json) };
  } catch (err) {
    return { ok: false, error: "json", message: err instanceof Error ? err.message : String(err) };
  }
}

/** A JSON object (not null, not an array): what the codecs and the trigger's event parser accept as one. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The stack's tags, as infra sets them in `START_JOB_TAGS` and `PIPELINE_JOB_TAGS`. */
export function encodeTags(tags: Readonly<Record<string, string>>): string {
  return JSON.stringify(tags);
}

/** The reverse of {@link encodeTags}: a JSON object of strings. The tag rules are `tagProblems` (contract/tags.ts). */
export function decodeTags(json: string): Decoded<Record<string, string>> {
  const parsed = parseJson(json);
  if (!parsed.ok) return parsed;
  const value = parsed.value;
  if (!isPlainObject(value) || !Object.values(value).every((v) => typeof v === "string")) {
    return { ok: false, error: "shape", message: "must be a JSON object of string tags" };
  }
  return { ok: true, value: value as Record<string, string> };
}

/** `PIPELINE_JOB_DEFINITIONS`: workflow job definition key → job definition name (or ARN). */
export function encodeJobDefinitions(names: Readonly<Record<string, string>>): string {
  return JSON.stringify(names);
}

/** The reverse of {@link encodeJobDefinitions}: a JSON object of non-empty strings. */
export function decodeJobDefinitions(json: string): Decoded<Record<string, string>> {
  const parsed = parseJson(json);
  if (!parsed.ok) return parsed;
  const value = parsed.value;
  if (!isPlainObject(value)) return { ok: false, error: "shape", message: "must be a JSON object" };
  if (!Object.values(value).every((v) => typeof v === "string" && v.length > 0)) {
    return { ok: false, error: "shape", message: "values must be non-empty job definition names" };
  }
  return { ok: true, value: value as Record<string, string> };
}

/**
 * `PIPELINE_WORKFLOW`: the workflow spec as JSON. Only the JSON: the spec's rules live in workflow/spec.ts
 * (`parseWorkflowSpec`, `parseWorkflowSpecJson`), its size limit in infra/orchestrator.ts.
 */
export function encodeWorkflow(workflow: unknown): string {
  return JSON.stringify(workflow);
}

/** The reverse of {@link encodeWorkflow}: any JSON value, for `parseWorkflowSpec` to validate. */
export function decodeWorkflow(json: string): Decoded<unknown> {
  return parseJson(json);
}

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

/** One entry of a container's `environment` (the SDK's `KeyValuePair` with both fields set). */
export interface EnvironmentEntry {
  name: string;
  value: string;
}

/**
 * The run id and the input object as container environment ({@link START_JOB_ENV}): what the trigger
 * puts on the start job and the planner on every task job. An unversioned object has an empty
 * `PIPELINE_INPUT_VERSION_ID`, an unknown ETag an empty `PIPELINE_INPUT_ETAG`.
 */
export function inputEnvironment(input: InputObject, runId: string): EnvironmentEntry[] {
  return [
    { name: START_JOB_ENV.runId, value: runId },
    { name: START_JOB_ENV.bucket, value: input.bucket },
    { name: START_JOB_ENV.key, value: input.key },
    { name: START_JOB_ENV.versionId, value: input.versionId ?? "" },
    { name: START_JOB_ENV.size, value: String(input.sizeBytes) },
    { name: START_JOB_ENV.eTag, value: input.eTag ?? "" },
  ];
}

/**
 * Where one run writes (`TASK_ENV.outputPrefix`): its own prefix under the stack's output prefix,
 * `<outputRoot><runId>/`. The run id is unique per object version, so no two runs share a key.
 */
export function runOutputPrefix(outputRoot: string, runId: string): string {
  return `${outputRoot}${runId}/`;
}

/**
 * The bytes each task of a `width.perChunkBytes` step covers (`TASK_ENV.chunkBytes`): `perChunkBytes`,
 * or `ceil(sizeBytes / width)` when that is larger (the width was capped by `max`), so `width` ranges of
 * this size always cover the whole object. `width` is at least 1.
 */
export function chunkBytesOf(perChunkBytes: number, sizeBytes: number, width: number): number {
  return Math.max(perChunkBytes, Math.ceil(sizeBytes / width));
}

/**
 * The run id and the input object as Batch job parameters ({@link START_JOB_PARAMETERS}), for `Ref::`
 * substitution in commands: the same values as {@link inputEnvironment}, the ETag excepted. An
 * unversioned object's `versionId` is empty, for the start job and process jobs alike, so `Ref::versionId`
 * never stays in a command unsubstituted.
 */
export function inputParameters(input: InputObject, runId: string): Record<string, string> {
  return {
    [START_JOB_PARAMETERS.runId]: runId,
    [START_JOB_PARAMETERS.bucket]: input.bucket,
    [START_JOB_PARAMETERS.key]: input.key,
    [START_JOB_PARAMETERS.versionId]: input.versionId ?? "",
    [START_JOB_PARAMETERS.size]: String(input.sizeBytes),
  };
}

/**
 * The DynamoDB table Powertools' `DynamoDBPersistenceLayer` needs, with its default attribute names:
 * partition key `id` (string), no sort key, TTL on `expiration` (epoch seconds). Items also carry
 * `status`, `in_progress_expiration` (epoch milliseconds) and `data` (the stored start job).
 * infra/trigger.ts creates the table and grants the actions from this.
 */
export const IDEMPOTENCY_TABLE_SCHEMA = {
  hashKey: "id",
  attributes: [{ name: "id", type: "S" }],
  ttlAttribute: "expiration",
  /** Exactly the calls the persistence layer makes (grant these on the table ARN only). */
  actions: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
} as const;

/**
 * Prefix of idempotency keys (the table's `id` values). Fixed rather than Powertools' default (the
 * function name), so records survive the function being replaced under a new auto-generated name.
 */
export const IDEMPOTENCY_KEY_PREFIX = "batch-pipeline.start-job";
