/**
 * The csv-stats example (examples/csv-stats) on its AWS path: stats.mjs and merge.mjs as fresh Node
 * processes with the environment Batch and the orchestrator give a task, their S3 client pointed at the
 * local endpoint (tests/e2e/s3Stub.ts) by AWS_ENDPOINT_URL. Each stats task asks for exactly its range
 * (from the byte before it) of the run's object version, and past its end only to finish its last
 * record; parts and the summary land under `<outputPrefix><runId>/`, so two runs never share a key; S3
 * throttling exits 75 (retried by `retryOn`), a missing object version or part exits 1, saying which.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectedSummary, generateCsv, type GeneratedCsv, lineStarts } from "../examples/csvFixture";
import { runNode } from "./node";
import { type S3Stub, startS3Stub } from "./s3Stub";
import { awsEnv, ROOT } from "./setup";

const STATS = join(ROOT, "examples/csv-stats/stats.mjs");
const MERGE = join(ROOT, "examples/csv-stats/merge.mjs");
const BUCKET = "batch-pipeline-csv-6a9625-input";
/** A key a shell would act on: the jobs must treat it as data. */
const KEY = "incoming/q3 report; $(touch pwned) & more.csv";
const CHUNK = 16 * 1024;
const TAIL = 64 * 1024;

let stub: S3Stub;
let cwd: string;
beforeAll(async () => {
  stub = await startS3Stub();
  stub.versioned(BUCKET);
  cwd = mkdtempSync(join(tmpdir(), "bp-csv-s3-"));
});
afterAll(async () => {
  await stub?.close();
  if (cwd) rmSync(cwd, { recursive: true, force: true });
});

interface Run {
  runId: string;
  versionId: string;
  csv: GeneratedCsv;
  width: number;
}

/** What a task of `step` gets in AWS: the input object, the run's prefix, its index (as offset + array index). */
function taskEnv(run: Run, step: "stats" | "merge", index = 0, offset = 0) {
  return {
    ...awsEnv(stub.url),
    // Fewer SDK attempts on a failure than the default 3: the throttling test waits for them.
    AWS_MAX_ATTEMPTS: "2",
    // This machine's Node may be older than the SDK's next floor (22); the warning is not the job's output.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    PIPELINE_RUN_ID: run.runId,
    PIPELINE_INPUT_BUCKET: BUCKET,
    PIPELINE_INPUT_KEY: KEY,
    PIPELINE_INPUT_VERSION_ID: run.versionId,
    PIPELINE_INPUT_SIZE: String(run.csv.bytes.length),
    PIPELINE_OUTPUT_BUCKET: BUCKET,
    PIPELINE_OUTPUT_PREFIX: `results/${run.runId}/`,
    PIPELINE_STEP: step,
    PIPELINE_TASK_COUNT: String(step === "stats" ? run.width : 1),
    PIPELINE_ARRAY_OFFSET: String(offset),
    ...(step === "stats" ? { PIPELINE_CHUNK_BYTES: String(CHUNK), AWS_BATCH_JOB_ARRAY_INDEX: String(index - offset) } : {}),
  };
}

const stats = (run: Run, index: number, offset = 0) => runNode([STATS], { env: taskEnv(run, "stats", index, offset), cwd });
const merge = (run: Run) => runNode([MERGE], { env: taskEnv(run, "merge"), cwd });

/** A new version of KEY holding `csv`, as the run the trigger would start for it. */
function upload(csv: GeneratedCsv, runId: string): Run {
  const versionId = stub.putObject(BUCKET, KEY, csv.bytes);
  return { runId, versionId, csv, width: Math.ceil(csv.bytes.length / CHUNK) };
}

/**
 * The Range headers task `index` must send: from the byte before its range (0 for task 0) to its end, then
 * TAIL bytes at a time past it while its last record (the last line starting in its range) has not ended.
 */
function expectedRanges(bytes: Buffer, index: number): string[] {
  const size = bytes.length;
  const start = index * CHUNK;
  const end = Math.min(start + CHUNK, size);
  if (start >= end) return [];
  const ranges = [`bytes=${start === 0 ? 0 : start - 1}-${end - 1}`];
  const last = lineStarts(bytes).filter((p) => p >= start && p < end).at(-1);
  if (last === undefined) return ranges;
  const newline = bytes.indexOf(10, last);
  const recordEnd = newline === -1 ? size - 1 : newline;
  for (let to = end - 1; recordEnd > to; ) {
    const from = to + 1;
    to = Math.min(from + TAIL, size) - 1;
    ranges.push(`bytes=${from}-${to}`);
  }
  return ranges;
}

const inputGets = () => stub.calls.filter((c) => c.operation === "GetObject" && c.key === KEY);
const putKeys = (runId: string) => stub.calls.filter((c) => c.operation === "PutObject" && c.key!.startsWith(`results/${runId}/`)).map((c) => c.key!);
const summaryOf = (run: Run) => JSON.parse(stub.object(BUCKET, `results/${run.runId}/summary.json`)!.toString("utf8"));

describe("csv-stats against S3 (a local endpoint)", () => {
  const first = generateCsv(1_900, { seed: 11 });
  let run1: Run;

  it("stats: each task GETs exactly its range of the run's version, past its end only to finish a record, and writes parts/<index>.json under the run's prefix", async () => {
    run1 = upload(first, "0123456789abcdef01234567");
    // A newer version of the key: every read must name the run's own.
    stub.putObject(BUCKET, KEY, "not,this\n1,2\n");
    expect(run1.width).toBeGreaterThanOrEqual(5);
    for (let i = 0; i < run1.width; i++) {
      const before = inputGets().length;
      // The last tasks as a second array job of the step (offset 3), as the planner splits wide steps.
      const out = await stats(run1, i, i >= 3 ? 3 : 0);
      expect({ code: out.code, stderr: out.stderr }).toEqual({ code: 0, stderr: "" });
      expect(out.stdout).toMatch(new RegExp(`^stats task ${i} of ${run1.width}: bytes ${i * CHUNK}-\\d+ of s3://${BUCKET}/.* \\(version ${run1.versionId}\\), read \\d+ bytes in \\d+ reads: \\d+ rows -> s3://${BUCKET}/results/${run1.runId}/parts/${i}\\.json\\n$`));
      const gets = inputGets().slice(before);
      expect(gets.map((c) => c.range), `task ${i}`).toEqual(expectedRanges(first.bytes, i));
      expect(gets.every((c) => c.versionId === run1.versionId && c.status === 206)).toBe(true);
    }
    // Some task had to read past its end.
    expect(inputGets().some((c) => /^bytes=(\d+)-/.exec(c.range!)![1]! === String(CHUNK))).toBe(true);
    expect(putKeys(run1.runId)).toEqual(Array.from({ length: run1.width }, (_, i) => `results/${run1.runId}/parts/${i}.json`));
    expect(existsSync(join(cwd, "pwned"))).toBe(false);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it("merge: lists the run's parts (page by page), reads each, and writes summary.json equal to the statistics of the whole file", async () => {
    stub.pageSize = 3;
    try {
      const out = await merge(run1);
      expect({ code: out.code, stderr: out.stderr }).toEqual({ code: 0, stderr: "" });
      expect(out.stdout).toBe(`merge: ${run1.width} parts, ${first.rows} rows, 5 columns -> s3://${BUCKET}/results/${run1.runId}/summary.json\n`);
    } finally {
      stub.pageSize = 1000;
    }
    const lists = stub.calls.filter((c) => c.operation === "ListObjectsV2");
    expect(lists.map((c) => c.prefix)).toEqual(Array(Math.ceil(run1.width / 3)).fill(`results/${run1.runId}/parts/`));
    expect(summaryOf(run1)).toEqual(expectedSummary(first, { bucket: BUCKET, key: KEY, versionId: run1.versionId, runId: run1.runId, parts: run1.width }));
  });

  it("a second run (another version, another run id) writes only under its own prefix, and each summary is its own file's", async () => {
    const second = generateCsv(1_000, { seed: 12, eol: "\r\n" });
    const run2 = upload(second, "fedcba9876543210fedcba98");
    const outs = await Promise.all(Array.from({ length: run2.width }, (_, i) => stats(run2, i)));
    expect(outs.map((o) => o.code)).toEqual(Array(run2.width).fill(0));
    expect((await merge(run2)).code).toBe(0);
    const keys1 = putKeys(run1.runId);
    const keys2 = putKeys(run2.runId);
    expect(keys2.sort()).toEqual([...Array.from({ length: run2.width }, (_, i) => `results/${run2.runId}/parts/${i}.json`), `results/${run2.runId}/summary.json`].sort());
    expect(keys1.filter((k) => keys2.includes(k))).toEqual([]);
    expect(summaryOf(run2)).toEqual(expectedSummary(second, { bucket: BUCKET, key: KEY, versionId: run2.versionId, runId: run2.runId, parts: run2.width }));
    expect(summaryOf(run1)).toEqual(expectedSummary(first, { bucket: BUCKET, key: KEY, versionId: run1.versionId, runId: run1.runId, parts: run1.width }));
  });
});

describe("csv-stats: how a task fails", () => {
  const small = generateCsv(500, { seed: 13 });

  it("exits 75 when S3 throttles it past the SDK's retries (retryOn: { exitCodes: [75] } retries the task), writing nothing", async () => {
    const run = upload(small, "aaaaaaaaaaaaaaaaaaaaaaaa");
    stub.failNext("GetObject", 2, 503, "SlowDown");
    const out = await stats(run, 0);
    expect(out.code).toBe(75);
    expect(out.stderr).toBe("stats: transient failure, exit 75 so Batch retries it (retryOn.exitCodes): SlowDown: injected by the test\n");
    expect(putKeys(run.runId)).toEqual([]);
    // The retry Batch makes succeeds.
    expect((await stats(run, 0)).code).toBe(0);
  });

  it("exits 1 naming the object when the run's version does not exist (a retry cannot help)", async () => {
    const run = { ...upload(small, "bbbbbbbbbbbbbbbbbbbbbbbb"), versionId: "v999999" };
    const out = await stats(run, 0);
    expect(out.code).toBe(1);
    expect(out.stderr).toBe(`stats: s3://${BUCKET}/${KEY} (version v999999) does not exist (NoSuchVersion)\n`);
  });

  it("merge exits 1 naming the missing parts and where it looked", async () => {
    const run = upload(small, "cccccccccccccccccccccccc");
    expect(run.width).toBeGreaterThanOrEqual(2);
    for (let i = 0; i < run.width; i++) if (i !== 1) expect((await stats(run, i)).code).toBe(0);
    const out = await merge(run);
    expect(out.code).toBe(1);
    expect(out.stderr).toBe(`merge: 1 of ${run.width} parts missing under s3://${BUCKET}/results/${run.runId}/parts/: 1 (the stats tasks with those indexes wrote nothing)\n`);
    expect(stub.object(BUCKET, `results/${run.runId}/summary.json`)).toBeUndefined();
  });

  it("stats exits 1 when the step has no PIPELINE_CHUNK_BYTES (not a perChunkBytes step)", async () => {
    const run = upload(small, "dddddddddddddddddddddddd");
    const env: Record<string, string | undefined> = { ...taskEnv(run, "stats", 0) };
    delete env.PIPELINE_CHUNK_BYTES;
    const out = await runNode([STATS], { env, cwd });
    expect({ code: out.code, stderr: out.stderr }).toEqual({ code: 1, stderr: "stats: PIPELINE_CHUNK_BYTES is not set: run stats as a step with `width: { perChunkBytes: N }`\n" });
  });
});
