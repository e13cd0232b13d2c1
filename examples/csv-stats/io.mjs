/**
 * Where a task reads and writes, and how it ends. In AWS the input is
 * `s3://$PIPELINE_INPUT_BUCKET/$PIPELINE_INPUT_KEY` (version `$PIPELINE_INPUT_VERSION_ID`) and results go
 * under `s3://$PIPELINE_OUTPUT_BUCKET/$PIPELINE_OUTPUT_PREFIX` (the run's own prefix); in a local run
 * (`batch-pipeline run`) `PIPELINE_INPUT_PATH` is the file and `PIPELINE_OUTPUT_DIR` stands for that prefix,
 * with the same relative keys. The S3 client honours `AWS_ENDPOINT_URL` (then path-style addressing).
 * Keys are data: nothing here builds a shell command or a path from the input's key.
 *
 * Exit codes: 0 done; 1 bad input or configuration (a clear message; a retry cannot help); 75 a transient
 * failure (S3 throttling, 5xx, a dropped connection, after the SDK's own retries), which the job
 * definition's `retryOn: { exitCodes: [75] }` retries.
 */
import { createReadStream, statSync } from "node:fs";
import { mkdir, readdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { BadInput } from "./csv.mjs";

export const EXIT = { ok: 0, bad: 1, transient: 75 };

/** A required environment variable. */
export function env(name, hint = "") {
  const value = process.env[name];
  if (value === undefined || value === "") throw new BadInput(`${name} is not set${hint ? `: ${hint}` : ""}`);
  return value;
}

/** A whole number from the environment, at least `min`. */
export function envInt(name, { min = 0, fallback, hint } = {}) {
  const text = process.env[name] || fallback;
  if (text === undefined || text === "") return Number(env(name, hint));
  const value = Number(text);
  if (!/^\d+$/.test(String(text)) || !Number.isSafeInteger(value) || value < min) throw new BadInput(`${name}=${text}: must be a whole number, at least ${min}`);
  return value;
}

/** This task's index in its step: `PIPELINE_ARRAY_OFFSET + AWS_BATCH_JOB_ARRAY_INDEX` (unset: 0). */
export const taskIndex = () => envInt("PIPELINE_ARRAY_OFFSET", { fallback: "0" }) + envInt("AWS_BATCH_JOB_ARRAY_INDEX", { fallback: "0" });

/** Whether this is a local run: `batch-pipeline run` sets `PIPELINE_INPUT_PATH`, AWS never does. */
export const isLocal = () => Boolean(process.env.PIPELINE_INPUT_PATH);

let client;
let sdk;
/** The S3 client and commands, loaded on first use (a local run never loads the SDK). */
async function s3() {
  if (!client) {
    sdk = await import("@aws-sdk/client-s3");
    const endpoint = process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL;
    client = new sdk.S3Client({ forcePathStyle: Boolean(endpoint) });
  }
  return { client, sdk };
}

/** What the input is: its size and a name for messages. */
export function input() {
  const size = envInt("PIPELINE_INPUT_SIZE");
  if (isLocal()) {
    const path = env("PIPELINE_INPUT_PATH");
    const actual = statSync(path).size;
    if (actual !== size) throw new BadInput(`${path} is ${actual} bytes, PIPELINE_INPUT_SIZE says ${size}: the file changed since the run was planned`);
    return { size, name: path };
  }
  const bucket = env("PIPELINE_INPUT_BUCKET");
  const key = env("PIPELINE_INPUT_KEY");
  const versionId = process.env.PIPELINE_INPUT_VERSION_ID || undefined;
  return { size, name: `s3://${bucket}/${key}${versionId ? ` (version ${versionId})` : ""}`, bucket, key, versionId };
}

/**
 * The input's bytes `[first, last]` (inclusive) in chunks: a ranged GET of the run's object version, or
 * the local file at those offsets. `requests` counts the reads, for the task's log line.
 */
export function rangeReader(object, counter = { requests: 0, bytes: 0 }) {
  return async function* readRange(first, last) {
    counter.requests++;
    if (isLocal()) {
      for await (const chunk of createReadStream(env("PIPELINE_INPUT_PATH"), { start: first, end: last, highWaterMark: 1 << 20 })) {
        counter.bytes += chunk.length;
        yield chunk;
      }
      return;
    }
    const { client, sdk } = await s3();
    const response = await send(client, new sdk.GetObjectCommand({ Bucket: object.bucket, Key: object.key, VersionId: object.versionId, Range: `bytes=${first}-${last}` }), object.name);
    for await (const chunk of response.Body) {
      counter.bytes += chunk.length;
      yield chunk;
    }
  };
}

/** Where a relative key of the run's output prefix is, for messages. */
export function outputName(relativeKey) {
  if (isLocal()) return join(env("PIPELINE_OUTPUT_DIR"), relativeKey);
  return `s3://${env("PIPELINE_OUTPUT_BUCKET")}/${env("PIPELINE_OUTPUT_PREFIX")}${relativeKey}`;
}

/** Writes `text` at `relativeKey` under the run's output prefix (locally: whole, or not at all). */
export async function writeOutput(relativeKey, text) {
  if (isLocal()) {
    const file = join(env("PIPELINE_OUTPUT_DIR"), relativeKey);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(`${file}.partial`, text);
    await rename(`${file}.partial`, file);
    return;
  }
  const { client, sdk } = await s3();
  const key = `${env("PIPELINE_OUTPUT_PREFIX")}${relativeKey}`;
  await send(client, new sdk.PutObjectCommand({ Bucket: env("PIPELINE_OUTPUT_BUCKET"), Key: key, Body: text, ContentType: "application/json" }), outputName(relativeKey));
}

/** The keys under `relativePrefix` of the run's output prefix, relative to the run's prefix. */
export async function listOutputs(relativePrefix) {
  if (isLocal()) {
    const dir = join(env("PIPELINE_OUTPUT_DIR"), relativePrefix);
    try {
      return (await readdir(dir)).filter((name) => !name.endsWith(".partial")).map((name) => `${relativePrefix}${name}`);
    } catch (error) {
      if (error.code === "ENOENT") return [];
      throw error;
    }
  }
  const { client, sdk } = await s3();
  const prefix = env("PIPELINE_OUTPUT_PREFIX");
  const keys = [];
  let token;
  do {
    const page = await send(client, new sdk.ListObjectsV2Command({ Bucket: env("PIPELINE_OUTPUT_BUCKET"), Prefix: `${prefix}${relativePrefix}`, ContinuationToken: token }), outputName(relativePrefix));
    for (const object of page.Contents ?? []) keys.push(object.Key.slice(prefix.length));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/** The text at `relativeKey` under the run's output prefix. */
export async function readOutput(relativeKey) {
  if (isLocal()) return readFile(join(env("PIPELINE_OUTPUT_DIR"), relativeKey), "utf8");
  const { client, sdk } = await s3();
  const response = await send(client, new sdk.GetObjectCommand({ Bucket: env("PIPELINE_OUTPUT_BUCKET"), Key: `${env("PIPELINE_OUTPUT_PREFIX")}${relativeKey}` }), outputName(relativeKey));
  return response.Body.transformToString("utf8");
}

/** Sends an S3 command; a missing object or a denied call is {@link BadInput} (retrying cannot help). */
async function send(client, command, what) {
  try {
    return await client.send(command);
  } catch (error) {
    const status = error?.$metadata?.httpStatusCode;
    if (["NoSuchKey", "NoSuchVersion", "NoSuchBucket", "NotFound"].includes(error?.name) || status === 404) throw new BadInput(`${what} does not exist (${error.name})`);
    if (error?.name === "AccessDenied" || status === 403) throw new BadInput(`${what}: access denied (${error.name}): the job's role may read the input and write under the output prefix only`);
    if (error?.name === "InvalidRange" || status === 416) throw new BadInput(`${what}: the range is past the object's end (${error.name}): PIPELINE_INPUT_SIZE is not the object's size`);
    throw error;
  }
}

const TRANSIENT_NAMES = new Set(["SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "ThrottlingException", "TooManyRequestsException", "TimeoutError"]);
const TRANSIENT_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EPIPE", "EAI_AGAIN", "EMFILE", "ENFILE", "EAGAIN", "EBUSY"]);

/** A failure that may pass if the task runs again: throttling, a 5xx, a dropped connection, a busy machine. */
export function isTransient(error) {
  const status = error?.$metadata?.httpStatusCode;
  return (
    (typeof status === "number" && (status >= 500 || status === 429)) ||
    TRANSIENT_NAMES.has(error?.name) ||
    TRANSIENT_CODES.has(error?.code) ||
    error?.$retryable !== undefined
  );
}

/** Runs a step's `main` and exits with its code (see the module comment), one line on stderr on failure. */
export async function run(step, main) {
  try {
    await main();
    process.exit(EXIT.ok);
  } catch (error) {
    if (error instanceof BadInput) {
      console.error(`${step}: ${error.message}`);
      process.exit(EXIT.bad);
    }
    if (isTransient(error)) {
      console.error(`${step}: transient failure, exit ${EXIT.transient} so Batch retries it (retryOn.exitCodes): ${error.name}: ${error.message}`);
      process.exit(EXIT.transient);
    }
    console.error(`${step}: failed:`, error);
    process.exit(EXIT.bad);
  }
}
