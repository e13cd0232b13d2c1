/**
 * The start job's identity (run id, job name) and its SubmitJob request.
 *
 * Runs inside the serialized inline Lambda: no value imports of npm packages or Node builtins here
 * (SHA-256 comes from the Web Crypto global).
 */
import type { SubmitJobCommandInput } from "@aws-sdk/client-batch";
import { inputEnvironment, inputParameters } from "../contract/codec";
import { MAX_JOB_NAME_CHARS, RUN_ID_CHARS, startJobNamePrefix } from "../contract/limits";
import { sanitizeTagValue, START_STEP_TAG, TAG_KEYS } from "../contract/tags";
import type { CreatedObject } from "./objectEvents";

/** What identifies one object version: the run id is derived from exactly these. */
export type ObjectVersion = Pick<CreatedObject, "bucket" | "key" | "versionId" | "sequencer">;

/**
 * The deterministic id of the run for one object version: the first 24 hex characters of the SHA-256
 * of bucket, key and version id. Unversioned objects (and the `null` version of a bucket whose
 * versioning is suspended, which every overwrite reuses) use S3's event sequencer instead, which is
 * unique per write of a key. JSON framing keeps `("a/b", "c")` and `("a", "b/c")` apart.
 */
export async function computeRunId(object: ObjectVersion): Promise<string> {
  const realVersion = object.versionId !== undefined && object.versionId !== "null" ? object.versionId : undefined;
  const discriminator = realVersion !== undefined
    ? ["version", realVersion]
    : object.sequencer !== undefined
      ? ["sequencer", object.sequencer]
      : ["version", object.versionId ?? ""];
  const material = new TextEncoder().encode(JSON.stringify(["run/v1", object.bucket, object.key, ...discriminator]));
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest("SHA-256", material));
  let hex = "";
  for (const byte of digest.subarray(0, RUN_ID_CHARS / 2)) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

/**
 * `start-<runId>-<readable tail of the key's last segment>`: always a valid Batch job name (1 to 128
 * characters, first alphanumeric, then letters, digits, `-`, `_`), found by ListJobs' prefix filter
 * `start-<runId>*` (contract `startJobNamePrefix`). Accents are folded to ASCII, any other run of
 * characters becomes `-`, and the tail keeps the END of the name (extensions and counters tell files
 * apart). A key with nothing readable gives `start-<runId>`; the run id keeps names unique.
 */
export function startJobName(key: string, runId: string): string {
  const prefix = startJobNamePrefix(runId);
  const budget = MAX_JOB_NAME_CHARS - prefix.length - 1;
  const segments = key.split("/").filter((s) => s !== "");
  const lastSegment = segments.length > 0 ? segments[segments.length - 1]! : "";
  const readable = lastSegment
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[^A-Za-z0-9_-]+/g, "-")
    .slice(-budget)
    .replace(/^[-_]+|[-_]+$/g, "");
  return readable === "" ? prefix : `${prefix}-${readable}`;
}

/** Where and how the start job is submitted. */
export interface StartJobTarget {
  /** Name or ARN of the start queue. */
  jobQueue: string;
  /** Name (latest active revision) or ARN of the start job definition. */
  jobDefinition: string;
  /**
   * The stack's id, the value of the {@link TAG_KEYS.stack} tag: the orchestrator's role may terminate
   * only jobs that carry its own stack's tag. Sent as is (never sanitized), so it must already be a
   * valid tag value.
   */
  stack: string;
  /**
   * Extra cost-allocation tags (e.g. project, environment). The pipeline's own `pipeline:*` tags win on a clash.
   * @default {}
   */
  tags?: Readonly<Record<string, string>>;
  /**
   * Fair-share identifier, required by Batch when the start queue has a scheduling policy.
   * @default undefined (no share identifier)
   */
  shareIdentifier?: string;
}

/**
 * The SubmitJob request for one object version's start job. The object is passed twice: as environment
 * overrides (what the orchestrator reads) and as parameters (for `Ref::` in the job definition's command).
 */
export function buildStartJobRequest(object: CreatedObject, runId: string, target: StartJobTarget): SubmitJobCommandInput {
  const tags: Record<string, string> = {};
  for (const [k, v] of Object.entries(target.tags ?? {})) tags[k] = sanitizeTagValue(v);
  tags[TAG_KEYS.runId] = runId;
  tags[TAG_KEYS.bucket] = sanitizeTagValue(object.bucket);
  tags[TAG_KEYS.key] = sanitizeTagValue(object.key);
  tags[TAG_KEYS.step] = START_STEP_TAG;
  tags[TAG_KEYS.stack] = target.stack;
  return {
    jobName: startJobName(object.key, runId),
    jobQueue: target.jobQueue,
    jobDefinition: target.jobDefinition,
    ...(target.shareIdentifier ? { shareIdentifier: target.shareIdentifier } : {}),
    parameters: inputParameters(object, runId),
    containerOverrides: { environment: inputEnvironment(object, runId) },
    tags,
    // The orchestrator's containers (ECS tasks) get the same tags, so their cost is attributed too.
    propagateTags: true,
  };
}
