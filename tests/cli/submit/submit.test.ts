/**
 * `batch-pipeline submit`: what is uploaded where (one PutObject below lib-storage's 5 MiB part size, a
 * multipart upload above it), the progress shown on a terminal and in a log, Ctrl-C aborting a multipart
 * upload so no parts stay billed, every key the trigger would never run refused before any upload, and
 * the run id: the trigger's own computeRunId over the version S3 gave the upload.
 */
import { BatchClient, DescribeJobsCommand, ListJobsCommand } from "@aws-sdk/client-batch";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { computeRunId } from "../../../contract/run";
import { ACCOUNT, cli, cliContext, OUTPUTS } from "../support";

const s3 = mockClient(S3Client);
const batch = mockClient(BatchClient);
const BUCKET = OUTPUTS.inputBucketName;
const MiB = 1024 * 1024;

const dir = mkdtempSync(join(tmpdir(), "submit-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SMALL = join(dir, "data.csv");
writeFileSync(SMALL, "id,value\n1,2\n");
// 11 MiB, sparse: parts of 5, 5 and 1 MiB.
const LARGE = join(dir, "large.bin");
writeFileSync(LARGE, "");
truncateSync(LARGE, 11 * MiB);
const EMPTY = join(dir, "empty");
writeFileSync(EMPTY, "");

const bodyLength = (input: object) => (input as { Body?: Uint8Array }).Body?.byteLength;
const withoutBody = (input: object): Record<string, unknown> => Object.fromEntries(Object.entries(input).filter(([k, v]) => k !== "Body" && v !== undefined));

beforeEach(() => {
  s3.reset();
  batch.reset();
  s3.on(PutObjectCommand).resolves({ VersionId: "3HL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY", ETag: '"9b2cf535f27731c974343645a3985328"' });
  s3.on(CreateMultipartUploadCommand).resolves({ UploadId: "upload-1" });
  s3.on(UploadPartCommand).callsFake((input: { PartNumber: number }) => ({ ETag: `"part-${input.PartNumber}"` }));
  s3.on(CompleteMultipartUploadCommand).resolves({ VersionId: "v-large", ETag: '"3858f62230ac3c915f300c664312c11f-3"' });
  s3.on(AbortMultipartUploadCommand).resolves({});
});

describe("submit: a file smaller than one part", () => {
  it("is one PutObject of the file's bytes under the trigger prefix, and prints the trigger's run id for that version", async () => {
    const { code, stdout, stderr } = await cli(["--stack", "dev", "submit", SMALL]);
    expect(code).toBe(0);
    const puts = s3.commandCalls(PutObjectCommand);
    expect(puts).toHaveLength(1);
    expect(withoutBody(puts[0]!.args[0].input)).toEqual({ Bucket: BUCKET, Key: "incoming/data.csv", ExpectedBucketOwner: ACCOUNT });
    expect(Buffer.from(puts[0]!.args[0].input.Body as Uint8Array).toString()).toBe(readFileSync(SMALL, "utf8"));
    expect(s3.commandCalls(CreateMultipartUploadCommand)).toHaveLength(0);
    const runId = await computeRunId({ bucket: BUCKET, key: "incoming/data.csv", versionId: "3HL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY" });
    expect(stdout).toBe(
      [
        `uploaded   s3://${BUCKET}/incoming/data.csv (13 B, version 3HL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY, one PutObject, 0ms)`,
        `run        ${runId}`,
        `start job  start-${runId}-data-csv on ${OUTPUTS.startQueueArn} (none when the trigger submits the jobs inline)`,
        `jobs       ${runId}-… on ${OUTPUTS.processQueueArn}`,
        `next       batch-pipeline watch ${runId}`,
        `           batch-pipeline logs ${runId} --follow`,
        "",
      ].join("\n"),
    );
    // Not a TTY, and nothing to report between 0 and 100 %: no progress lines.
    expect(stderr).toBe(`uploading data.csv (13 B) to s3://${BUCKET}/incoming/data.csv in one PutObject\n`);
  });

  it("--key puts it under that key; --json prints one JSON document and nothing else on stdout", async () => {
    const { code, stdout } = await cli(["--stack", "dev", "submit", SMALL, "--key", "incoming/2026/12/a b+c.csv", "--json"]);
    expect(code).toBe(0);
    expect(s3.commandCalls(PutObjectCommand)[0]!.args[0].input.Key).toBe("incoming/2026/12/a b+c.csv");
    const runId = await computeRunId({ bucket: BUCKET, key: "incoming/2026/12/a b+c.csv", versionId: "3HL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY" });
    expect(JSON.parse(stdout)).toEqual({
      bucket: BUCKET,
      key: "incoming/2026/12/a b+c.csv",
      versionId: "3HL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY",
      eTag: '"9b2cf535f27731c974343645a3985328"',
      sizeBytes: 13,
      runId,
    });
    expect(stdout.trim().split("\n")).toHaveLength(1);
  });

  it("on a TTY draws the bar on stderr, done at 100 %", async () => {
    const { code, stdout, stderr } = await cli(["--stack", "dev", "submit", SMALL], cliContext({ isTTY: true }));
    expect(code).toBe(0);
    expect(stdout).toContain("run        ");
    expect(stderr).toContain("\x1b[?25l"); // cursor hidden while drawing, shown again after
    expect(stderr).toContain("\x1b[?25h");
    expect(stderr).toContain("data.csv ████████████████████████████████████████ 100% 13 B/13 B");
  });
});

describe("submit: a file larger than the 5 MiB part size", () => {
  it("is a multipart upload: CreateMultipartUpload, UploadPart × 3 (5 + 5 + 1 MiB), CompleteMultipartUpload with every part", async () => {
    const { code, stdout } = await cli(["--stack", "dev", "submit", LARGE]);
    expect(code).toBe(0);
    const key = "incoming/large.bin";
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
    expect(s3.commandCalls(CreateMultipartUploadCommand).map((c) => withoutBody(c.args[0].input))).toEqual([{ Bucket: BUCKET, Key: key, ChecksumAlgorithm: "CRC32", ExpectedBucketOwner: ACCOUNT }]);
    const parts: Record<string, unknown>[] = s3.commandCalls(UploadPartCommand).map((c) => ({ ...withoutBody(c.args[0].input), bytes: bodyLength(c.args[0].input) }));
    expect(parts.sort((a, b) => Number(a.PartNumber) - Number(b.PartNumber))).toEqual([
      { Bucket: BUCKET, Key: key, UploadId: "upload-1", PartNumber: 1, ExpectedBucketOwner: ACCOUNT, bytes: 5 * MiB },
      { Bucket: BUCKET, Key: key, UploadId: "upload-1", PartNumber: 2, ExpectedBucketOwner: ACCOUNT, bytes: 5 * MiB },
      { Bucket: BUCKET, Key: key, UploadId: "upload-1", PartNumber: 3, ExpectedBucketOwner: ACCOUNT, bytes: 1 * MiB },
    ]);
    expect(s3.commandCalls(CompleteMultipartUploadCommand).map((c) => withoutBody(c.args[0].input))).toEqual([
      {
        Bucket: BUCKET,
        Key: key,
        UploadId: "upload-1",
        ExpectedBucketOwner: ACCOUNT,
        MultipartUpload: { Parts: [1, 2, 3].map((n) => ({ PartNumber: n, ETag: `"part-${n}"` })) },
      },
    ]);
    const runId = await computeRunId({ bucket: BUCKET, key, versionId: "v-large" });
    expect(stdout).toContain(`uploaded   s3://${BUCKET}/${key} (11 MiB, version v-large, 3 parts of 5.0 MiB, `);
    expect(stdout).toContain(`run        ${runId}\n`);
  });

  it("not on a TTY, prints a plain line each time another 10 % is done, with the rate from the context's clock", async () => {
    const ctx = cliContext();
    s3.on(UploadPartCommand).callsFake(async (input: { PartNumber: number }) => {
      await ctx.sleep(1000);
      return { ETag: `"part-${input.PartNumber}"` };
    });
    const { code, stderr } = await cli(["--stack", "dev", "submit", LARGE], ctx);
    expect(code).toBe(0);
    const lines = stderr.trimEnd().split("\n");
    expect(lines[0]).toBe(`uploading large.bin (11 MiB) to s3://${BUCKET}/incoming/large.bin in 3 parts of 5.0 MiB`);
    // Each part takes 1 s of the fake clock: 5 MiB after 1 s, 10 MiB after 2 s, 11 MiB after 3 s.
    expect(lines.slice(1)).toEqual([
      "uploaded 5.0 MiB of 11 MiB (45%), 5.0 MiB/s, ETA 1s",
      "uploaded 10 MiB of 11 MiB (90%), 5.0 MiB/s, ETA 200ms",
      "uploaded 11 MiB of 11 MiB (100%), 3.7 MiB/s",
    ]);
  });

  it("on a TTY redraws one bar in place (carriage to column 1, clear to the end of the line) per part", async () => {
    const { code, stderr } = await cli(["--stack", "dev", "submit", LARGE], cliContext({ isTTY: true, columns: 100 }));
    expect(code).toBe(0);
    const frames = stderr.split("\x1b[1G").slice(1).map((f) => f.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[78]/g, "").trimEnd());
    expect(frames.map((f) => f.replace(/ – ETA –$/, ""))).toEqual([
      "large.bin ········································   0% 0 B/11 MiB",
      "large.bin ██████████████████······················  45% 5.0 MiB/11 MiB",
      "large.bin ████████████████████████████████████····  90% 10 MiB/11 MiB",
      "large.bin ████████████████████████████████████████ 100% 11 MiB/11 MiB",
    ]);
    expect(stderr.endsWith("\n")).toBe(true);
  });

  // S3 API reference, AbortMultipartUpload: parts of an upload neither completed nor aborted stay stored and billed.
  it("Ctrl-C aborts the multipart upload (AbortMultipartUpload, no CompleteMultipartUpload) and exits 130", async () => {
    const ctx = cliContext();
    s3.on(UploadPartCommand).callsFake((input: { PartNumber: number }) => {
      ctx.controller.abort("SIGINT");
      return { ETag: `"part-${input.PartNumber}"` };
    });
    const { code, stdout, stderr } = await cli(["--stack", "dev", "submit", LARGE], ctx);
    expect(code).toBe(130);
    expect(stdout).toBe("");
    expect(s3.commandCalls(AbortMultipartUploadCommand).map((c) => c.args[0].input)).toEqual([{ Bucket: BUCKET, Key: "incoming/large.bin", UploadId: "upload-1", ExpectedBucketOwner: ACCOUNT }]);
    expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
    // Once aborted, no further part is sent.
    expect(s3.commandCalls(UploadPartCommand).length).toBeLessThan(3);
    expect(stderr).toContain(`interrupted: upload of s3://${BUCKET}/incoming/large.bin aborted; multipart upload upload-1 aborted, no parts left\n`);
  });

  it("a failed part aborts the multipart upload too, and the error is one line (exit 3)", async () => {
    const denied = Object.assign(new Error("Access Denied"), { name: "AccessDenied", $metadata: { httpStatusCode: 403 } });
    s3.on(UploadPartCommand).rejects(denied);
    const { code, stderr } = await cli(["--stack", "dev", "submit", LARGE]);
    expect(code).toBe(3);
    expect(s3.commandCalls(AbortMultipartUploadCommand).map((c) => c.args[0].input)).toEqual([{ Bucket: BUCKET, Key: "incoming/large.bin", UploadId: "upload-1", ExpectedBucketOwner: ACCOUNT }]);
    expect(stderr.trimEnd().split("\n").at(-1)).toBe(
      `error: AWS denied S3 upload to s3://${BUCKET}/incoming/large.bin: Access Denied (give your identity this permission, or use another AWS_PROFILE)`,
    );
  });
});

describe("submit: keys the trigger would never start a run for are refused before any upload (exit 2, one line naming the rule)", () => {
  const withSuffix = { ...OUTPUTS, triggerSuffix: ".csv" };
  it.each([
    ["outside the trigger prefix", SMALL, ["--key", "elsewhere/data.csv"], OUTPUTS, 'key "elsewhere/data.csv" starts no run: it is not under trigger.prefix "incoming/"; use a key that starts with it'],
    ["under the output prefix", SMALL, ["--key", "results/data.csv"], OUTPUTS, 'key "results/data.csv" starts no run: it is under trigger.outputPrefix "results/", which the trigger ignores so the pipeline never triggers itself; use a key outside it'],
    ["without the trigger suffix", LARGE, [], withSuffix, 'key "incoming/large.bin" starts no run: it does not end with trigger.suffix ".csv"; use a key that ends with it'],
    // S3 user guide, "Naming Amazon S3 objects": at most 1,024 bytes of UTF-8 (here 519 characters, 1,029 bytes).
    ["over 1,024 bytes of UTF-8", SMALL, ["--key", `incoming/${"é".repeat(510)}`], OUTPUTS, `key ${JSON.stringify(`incoming/${"é".repeat(51)}`)}… is 1,029 bytes in UTF-8; S3 keys are at most 1,024 bytes`],
    ["a \"Create folder\" marker", EMPTY, ["--key", "incoming/folder/"], OUTPUTS, 'key "incoming/folder/" starts no run: it ends in "/" and is empty: the trigger ignores such "Create folder" markers; use a key that does not end in "/"'],
  ])("%s", async (_, file, flags, outputs, message) => {
    const { code, stdout, stderr } = await cli(["--stack", "dev", "submit", file, ...flags], cliContext({ pulumiOutputs: outputs }));
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toBe(`error: ${message}\n`);
    expect(s3.calls()).toHaveLength(0);
  });

  it("a file that does not exist", async () => {
    const { code, stderr } = await cli(["--stack", "dev", "submit", join(dir, "missing.csv")]);
    expect(code).toBe(2);
    expect(stderr).toBe(`error: cannot read ${join(dir, "missing.csv")}: ENOENT; pass the path of a file to upload\n`);
    expect(s3.calls()).toHaveLength(0);
  });
});

describe("submit: the version id", () => {
  it.each([[{}], [{ VersionId: "null" }]])("S3 answering %j (versioning off or suspended) is an error: the run id cannot be known", async (answer) => {
    s3.on(PutObjectCommand).resolves({ ETag: '"e"', ...answer });
    const { code, stdout, stderr } = await cli(["--stack", "dev", "submit", SMALL]);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr.trimEnd().split("\n").at(-1)).toBe(
      `error: uploaded s3://${BUCKET}/incoming/data.csv, but S3 returned no version id: the input bucket must have versioning on (the stack turns it on; check \`aws s3api get-bucket-versioning --bucket ${BUCKET}\`). ` +
        "Without a version the run id is made from S3's event sequencer, which only the trigger sees, so it cannot be known here",
    );
  });
});

describe("submit --watch", () => {
  const startJob = async () => ({ jobId: "start-1", jobName: `start-${await computeRunId({ bucket: BUCKET, key: "incoming/data.csv", versionId: "3HL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY" })}-data-csv`, status: "SUBMITTED" as const, createdAt: 1 });

  const listed = (queue: string) => batch.commandCalls(ListJobsCommand).map((c) => c.args[0].input).filter((input) => input.jobQueue === queue);

  // ListJobs is eventually consistent (docs/aws-batch-limits.md): the start job may show only after a few polls.
  it("waits until ListJobs shows the start job, then follows the run as `watch RUN` does, with the same stack, and returns its exit code: one wait", async () => {
    const job = await startJob();
    const runId = job.jobName.split("-")[1]!;
    batch.on(ListJobsCommand, { jobQueue: OUTPUTS.startQueueArn }).resolvesOnce({ jobSummaryList: [] }).resolvesOnce({ jobSummaryList: [] }).resolves({ jobSummaryList: [job] });
    batch.on(ListJobsCommand, { jobQueue: OUTPUTS.processQueueArn }).resolves({ jobSummaryList: [] });
    const failed = { ...job, status: "FAILED" as const, statusReason: "Essential container in task exited", startedAt: 1, stoppedAt: 2, jobQueue: OUTPUTS.startQueueArn, jobDefinition: "start", attempts: [{ container: { exitCode: 1, logStreamName: "start/default/1" } }] };
    batch.on(DescribeJobsCommand).resolves({ jobs: [failed] });
    const ctx = cliContext();
    const { code, stdout, stderr } = await cli(["--stack", "dev", "submit", SMALL, "--watch"], ctx);
    expect(code).toBe(1);
    // Each look reads the run as `watch` does, both queues by its names (its start job, or an inline run's DAG,
    // may appear first); the look that finds the start job is the run's first read.
    expect(listed(OUTPUTS.startQueueArn)).toEqual(Array(3).fill({ jobQueue: OUTPUTS.startQueueArn, filters: [{ name: "JOB_NAME", values: [`start-${runId}*`] }], nextToken: undefined }));
    expect(listed(OUTPUTS.processQueueArn)).toEqual(Array(3).fill({ jobQueue: OUTPUTS.processQueueArn, filters: [{ name: "JOB_NAME", values: [`${runId}-*`] }], nextToken: undefined }));
    expect(ctx.slept).toEqual([3000, 3000]);
    expect(stderr).toContain(`waiting for the trigger to submit start-${runId}… on ${OUTPUTS.startQueueArn} (or, inline, ${runId}-… on ${OUTPUTS.processQueueArn})\n`);
    // The wait above is the only one: `watch`'s own wait for an unknown run is not added to it.
    expect(stderr).not.toContain("has no jobs yet");
    expect(stdout).toContain(`batch-pipeline logs ${runId} --stack dev --step start`);
    expect(stdout.trimEnd().split("\n").at(-1)).toMatch(new RegExp(`^run ${runId} FAILED after .*: 3 polls, \\d+ Batch calls$`));
  });

  it("takes the run's jobs appearing on the process queue as its start when the trigger submits them inline (no start job ever), and follows it to its end", async () => {
    const runId = (await startJob()).jobName.split("-")[1]!;
    const env = { PIPELINE_RUN_ID: runId, PIPELINE_INPUT_BUCKET: BUCKET, PIPELINE_INPUT_KEY: "incoming/data.csv", PIPELINE_STEP: "prepare", PIPELINE_TASK_COUNT: "1", PIPELINE_ARRAY_OFFSET: "0" };
    const summary = { jobId: "prepare-1", jobName: `${runId}-prepare`, status: "RUNNING" as const, createdAt: 1 };
    const detail = (status: "RUNNING" | "SUCCEEDED") => ({ ...summary, status, startedAt: 2, ...(status === "SUCCEEDED" ? { stoppedAt: 3 } : {}), jobQueue: OUTPUTS.processQueueArn, jobDefinition: "process", container: { environment: Object.entries(env).map(([name, value]) => ({ name, value })) } });
    batch.on(ListJobsCommand, { jobQueue: OUTPUTS.startQueueArn }).resolves({ jobSummaryList: [] });
    batch.on(ListJobsCommand, { jobQueue: OUTPUTS.processQueueArn }).resolvesOnce({ jobSummaryList: [] }).resolves({ jobSummaryList: [summary] });
    batch.on(DescribeJobsCommand).resolvesOnce({ jobs: [detail("RUNNING")] }).resolves({ jobs: [detail("SUCCEEDED")] });
    const ctx = cliContext();
    const { code, stdout, stderr } = await cli(["--stack", "dev", "submit", SMALL, "--watch"], ctx);
    expect({ code, error: stderr.split("\n").filter((l) => l.startsWith("error")) }).toEqual({ code: 0, error: [] });
    // One look without a job (3 s), then followed as `watch` follows it (15 s a poll) until it succeeded.
    expect(ctx.slept).toEqual([3000, 15_000]);
    expect(stderr).toContain(`waiting for the trigger to submit start-${runId}… on ${OUTPUTS.startQueueArn} (or, inline, ${runId}-… on ${OUTPUTS.processQueueArn})\n`);
    // The input shown comes from the task's environment: the run has no start job to read it from.
    expect(stdout.trimEnd().split("\n").slice(-5)).toEqual([
      `2026-12-01 12:00:03Z  run      RUNNING    ${runId} s3://${BUCKET}/incoming/data.csv`,
      "2026-12-01 12:00:03Z  prepare  RUNNING    0/1 done",
      "2026-12-01 12:00:18Z  prepare  SUCCEEDED  1/1 done",
      `2026-12-01 12:00:18Z  run      SUCCEEDED  ${runId}`,
      `run ${runId} SUCCEEDED after 2ms: 3 polls, 7 Batch calls`,
    ]);
  });

  it("gives up after 2 minutes without a start job, pointing at the trigger's log and the dead-letter queue (exit 1)", async () => {
    batch.on(ListJobsCommand).resolves({ jobSummaryList: [] });
    const ctx = cliContext();
    const { code, stdout, stderr } = await cli(["--stack", "dev", "submit", SMALL, "--watch"], ctx);
    expect(code).toBe(1);
    // Nothing was followed, and 2 minutes were waited in all (not 2 for submit and 2 more for watch).
    expect(stdout.trimEnd().split("\n").at(-1)).toMatch(/batch-pipeline logs [0-9a-f]{24} --follow$/);
    expect(ctx.slept.reduce((a, b) => a + b, 0)).toBe(120_000);
    expect(listed(OUTPUTS.startQueueArn)).toHaveLength(41);
    expect(listed(OUTPUTS.processQueueArn)).toHaveLength(41);
    expect(stderr.trimEnd().split("\n").at(-1)).toMatch(
      /^error: the trigger has not submitted a start job or any job of run ([0-9a-f]{24}) after 2m 00s: see the trigger's log \(function .*-trigger-fn-3c4d5e6\) and the dead-letter queue \(`batch-pipeline redrive --dry-run`\); with trigger.delivery: queue, a burst's backlog may still hold its event \(the queue's ApproximateAgeOfOldestMessage\): `batch-pipeline watch \1` follows it once it appears, or pass --appear-timeout$/,
    );
  });

  it("--appear-timeout waits that long instead (a backlog in the trigger's queue, an inline attempt retried), and refuses what is no whole number of seconds", async () => {
    batch.on(ListJobsCommand).resolves({ jobSummaryList: [] });
    const ctx = cliContext();
    const { code, stderr } = await cli(["--stack", "dev", "submit", SMALL, "--watch", "--appear-timeout", "600"], ctx);
    expect(code).toBe(1);
    expect(ctx.slept.reduce((a, b) => a + b, 0)).toBe(600_000);
    expect(stderr).toContain("after 10m 00s");
    const bad = await cli(["--stack", "dev", "submit", SMALL, "--watch", "--appear-timeout", "0"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("option '--appear-timeout <seconds>' argument '0' is invalid. must be a whole number of seconds, at least 1");
  });

  it("with --json is refused: one JSON document or a live screen, not both", async () => {
    const { code, stderr } = await cli(["--stack", "dev", "submit", SMALL, "--watch", "--json"]);
    expect(code).toBe(2);
    expect(stderr).toBe("error: --json and --watch do not go together: pass one (`batch-pipeline watch RUN` follows a run after `submit --json`)\n");
    expect(s3.calls()).toHaveLength(0);
  });
});
