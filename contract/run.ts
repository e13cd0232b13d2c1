/**
 * A run's identity: the run id of one object version, the start job's name, and the run a job's name
 * belongs to. The trigger derives them, and the CLI derives the same ones to find a run (`plan`, `submit`,
 * `run`, `runs`), so they live here once.
 *
 * Serialized into the inline Lambda: no value imports of npm packages or Node builtins (SHA-256 comes from
 * the Web Crypto global).
 */
import type { InputObject } from "./codec";
import { MAX_JOB_NAME_CHARS, RUN_ID_CHARS, START_JOB_NAME_PREFIX, startJobNamePrefix } from "./limits";

/** What identifies one object version: the run id is derived from exactly these. */
export type ObjectVersion = Pick<InputObject, "bucket" | "key" | "versionId"> & {
  /** S3's per-key ordering token of the event: stands in for the version id of an unversioned object. */
  sequencer?: string;
};

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

/** Which of a run's jobs a name is: its start job, or a process or barrier job of its DAG. */
export interface JobNameOfRun {
  runId: string;
  kind: "start" | "dag";
}

const START_JOB_NAME = new RegExp(`^${START_JOB_NAME_PREFIX}-([0-9a-f]{${RUN_ID_CHARS}})(?:-|$)`);
const DAG_JOB_NAME = new RegExp(`^([0-9a-f]{${RUN_ID_CHARS}})-`);

/**
 * The run a job's name says it belongs to, the one reading of the names {@link startJobName} and the
 * planner give (`start-<runId>[-tail]`, `<runId>-<id>`: contract `startJobNamePrefix`, `runJobNamePrefix`).
 * ListJobs' summaries carry no tags, so listing a queue finds runs by name alone. Case-sensitive (run ids
 * are lowercase hex), unlike ListJobs' name filter: `START-<runId>`, a 23- or 25-character id or one not
 * followed by `-` is no run's. A job someone else named after the pattern on the same queue reads as a
 * run's; reading that run (`fetchRun`) then finds what Batch lists under its name.
 */
export function runOfJobName(jobName: string | undefined): JobNameOfRun | undefined {
  const name = jobName ?? "";
  const start = START_JOB_NAME.exec(name)?.[1];
  if (start !== undefined) return { runId: start, kind: "start" };
  const dag = DAG_JOB_NAME.exec(name)?.[1];
  return dag !== undefined ? { runId: dag, kind: "dag" } : undefined;
}
