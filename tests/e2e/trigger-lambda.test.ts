/**
 * Proves the code that would really be deployed: infra/triggerHandler.ts compiled by tsc (not vitest's
 * transform), serialized by Pulumi's closure serializer exactly as `aws.lambda.CallbackFunction` does,
 * then loaded in a fresh Node process and invoked with S3 events. The real AWS SDK clients in that
 * process talk to a local AWS-compatible endpoint (AWS_ENDPOINT_URL), which records what they send.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AwsStub, startAwsStub } from "./awsStub";
import { lastJsonLine, runNode } from "./node";

const run = promisify(execFile);
const root = path.resolve(__dirname, "../..");
let dir: string;
let stub: AwsStub;
let summary: { indexBytes: number; packages: { path: string }[]; zippedBytes: number };

const QUEUE = "arn:aws:batch:eu-west-1:123456789012:job-queue/high";

function s3Event(...records: { key: string; versionId?: string; size?: number; eventName?: string }[]) {
  return {
    Records: records.map((r) => ({
      eventVersion: "2.1",
      eventSource: "aws:s3",
      awsRegion: "eu-west-1",
      eventName: r.eventName ?? "ObjectCreated:Put",
      s3: {
        bucket: { name: "input-bucket", arn: "arn:aws:s3:::input-bucket" },
        object: { key: r.key, size: r.size ?? 10, eTag: "abc", versionId: r.versionId, sequencer: "00A1" },
      },
    })),
  };
}

async function invoke(event: unknown): Promise<{ ok: boolean; result?: any; error?: { name: string; message: string }; loadMs: number }> {
  const out = await runNode([path.join(root, "scripts", "lambda-invoke.cjs"), dir], {
    cwd: dir,
    input: JSON.stringify(event),
    env: {
      PATH: process.env.PATH,
      AWS_ENDPOINT_URL: stub.url,
      AWS_REGION: "eu-west-1",
      AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
      AWS_SECRET_ACCESS_KEY: "secret",
      AWS_LAMBDA_FUNCTION_NAME: "trigger",
      START_QUEUE: QUEUE,
      START_JOB_DEFINITION: "start-def",
      IDEMPOTENCY_TABLE: "idempotency",
      IDEMPOTENCY_TTL_SECONDS: "604800",
      IGNORE_PREFIX: "results/",
    },
  });
  if (out.code !== 0) throw new Error(`lambda-invoke exited ${out.code}: ${out.stderr}`);
  return lastJsonLine(out.stdout);
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "lambda-"));
  const { stdout } = await run(process.execPath, [path.join(root, "scripts", "lambda-package.cjs"), dir], { cwd: root });
  summary = lastJsonLine(stdout);
  // Stand-in for the Lambda runtime's SDK and the Powertools layer: the same packages, resolved from here.
  symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"), "dir");
  stub = await startAwsStub();
}, 120_000);

afterAll(async () => {
  await stub?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the serialized trigger Lambda", () => {
  it("uploads the handler alone: the SDK is in the runtime, Powertools in its layer", () => {
    expect(summary.packages).toEqual([]);
    expect(summary.zippedBytes).toBeLessThan(50 * 1024);
    const code = readFileSync(path.join(dir, "__index.js"), "utf8");
    // npm packages are loaded at run time, never inlined.
    expect(code).toContain('require("@aws-sdk/client-batch")');
    expect(code).toContain('require("@aws-lambda-powertools/idempotency")');
    expect(code).not.toMatch(/__vi_import|__vite_ssr/);
  });

  it("submits the start job for an S3 event through the real SDK", async () => {
    const out = await invoke(s3Event({ key: "incoming/my+file%2B1.csv", versionId: "v1", size: 2048 }));
    expect(out.ok).toBe(true);
    expect(stub.submitted).toHaveLength(1);
    const body = stub.submitted[0];
    expect(body.jobQueue).toBe(QUEUE);
    expect(body.jobDefinition).toBe("start-def");
    expect(body.jobName).toMatch(/^start-[A-Za-z0-9_-]*-[0-9a-f]{24}$/);
    const env = Object.fromEntries(body.containerOverrides.environment.map((e: any) => [e.name, e.value]));
    expect(env).toMatchObject({
      PIPELINE_INPUT_BUCKET: "input-bucket",
      PIPELINE_INPUT_KEY: "incoming/my file+1.csv",
      PIPELINE_INPUT_VERSION_ID: "v1",
      PIPELINE_INPUT_SIZE: "2048",
    });
    expect(env.PIPELINE_RUN_ID).toMatch(/^[0-9a-f]{24}$/);
    // Powertools recorded the run: a conditional put, then the completed result.
    const ops = stub.calls.filter((c) => c.service === "dynamodb").map((c) => c.operation);
    expect(ops).toEqual(["PutItem", "UpdateItem"]);
    expect([...stub.table.values()][0]!.status).toEqual({ S: "COMPLETED" });
  });

  it("submits nothing when the same event is delivered again (a fresh process: no memory cache)", async () => {
    const before = stub.submitted.length;
    const out = await invoke(s3Event({ key: "incoming/my+file%2B1.csv", versionId: "v1", size: 2048 }));
    expect(out.ok).toBe(true);
    expect(stub.submitted.length).toBe(before);
  });

  it("retries a throttled SubmitJob and then succeeds", async () => {
    stub.throttleNext(2);
    const before = stub.calls.filter((c) => c.operation === "SubmitJob").length;
    const out = await invoke(s3Event({ key: "incoming/throttled.csv", versionId: "v7" }));
    expect(out.ok).toBe(true);
    expect(stub.calls.filter((c) => c.operation === "SubmitJob").length - before).toBe(3);
  }, 60_000);

  it("ignores s3:TestEvent and throws on an unrecognized event, so it reaches the dead-letter queue", async () => {
    const before = stub.submitted.length;
    expect((await invoke({ Service: "Amazon S3", Event: "s3:TestEvent", Bucket: "input-bucket" })).ok).toBe(true);
    const bad = await invoke({ surprise: true });
    expect(bad.ok).toBe(false);
    expect(stub.submitted.length).toBe(before);
  });
});
