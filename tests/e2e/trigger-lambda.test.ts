/**
 * Proves the code that would really be deployed: infra/triggerHandler.ts compiled by tsc (not vitest's
 * transform), serialized by Pulumi's closure serializer exactly as `aws.lambda.CallbackFunction` does,
 * then loaded in a fresh Node process and invoked with S3 events. The real AWS SDK clients in that
 * process talk to a local AWS-compatible endpoint (AWS_ENDPOINT_URL), which records what they send.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { type Invocation, invokeLambda, s3Event, sqsBatch, STACK, START_QUEUE } from "./lambda";
import { builtLambdas } from "./lambdaBuild";
import { setUpE2e } from "./setup";

// The container-mode Lambda of the one shared build (lambdaBuild.ts); its node_modules stands in for the Lambda
// runtime's SDK and the Powertools layer: the same packages, resolved from there.
const e2e = setUpE2e("lambda-", async () => {
  const built = await builtLambdas();
  return { dir: path.join(built.dir, "triggerHandlerFactory"), ...built.summaries.triggerHandlerFactory };
});

const invoke = (event: unknown): Promise<Invocation> => invokeLambda(e2e.built.dir, event, e2e.stub.url);

describe("the serialized trigger Lambda", () => {
  it("uploads the handler alone: the SDK is in the runtime, Powertools in its layer", () => {
    expect(e2e.built.packages).toEqual([]);
    expect(e2e.built.zippedBytes).toBeLessThan(50 * 1024);
    const code = readFileSync(path.join(e2e.built.dir, "__index.js"), "utf8");
    // npm packages are loaded at run time, never inlined.
    expect(code).toContain('require("@aws-sdk/client-batch")');
    expect(code).toContain('require("@aws-lambda-powertools/idempotency")');
    expect(code).not.toMatch(/__vi_import|__vite_ssr/);
  });

  it("submits the start job for an S3 event through the real SDK", async () => {
    const out = await invoke(s3Event({ key: "incoming/my+file%2B1.csv", versionId: "v1", size: 2048 }));
    expect(out.ok).toBe(true);
    expect(e2e.stub.submitted).toHaveLength(1);
    const body = e2e.stub.submitted[0];
    expect(body.jobQueue).toBe(START_QUEUE);
    expect(body.jobDefinition).toBe("start-def");
    expect(body.jobName).toMatch(/^start-[0-9a-f]{24}(-[A-Za-z0-9_-]+)?$/);
    const env = Object.fromEntries(body.containerOverrides.environment.map((e: any) => [e.name, e.value]));
    expect(env).toMatchObject({
      PIPELINE_INPUT_BUCKET: "input-bucket",
      PIPELINE_INPUT_KEY: "incoming/my file+1.csv",
      PIPELINE_INPUT_VERSION_ID: "v1",
      PIPELINE_INPUT_SIZE: "2048",
    });
    expect(env.PIPELINE_RUN_ID).toMatch(/^[0-9a-f]{24}$/);
    // The orchestrator's role may terminate only jobs tagged with its own stack (pipeline:stack).
    expect(body.tags).toMatchObject({ "pipeline:stack": STACK, "pipeline:step": "start", "pipeline:run-id": env.PIPELINE_RUN_ID });
    // Powertools recorded the run: a conditional put, then the completed result.
    const ops = e2e.stub.calls.filter((c) => c.service === "dynamodb").map((c) => c.operation);
    expect(ops).toEqual(["PutItem", "UpdateItem"]);
    expect([...e2e.stub.table.values()][0]!.status).toEqual({ S: "COMPLETED" });
  });

  it("submits nothing when the same event is delivered again (a fresh process: no memory cache)", async () => {
    const before = e2e.stub.submitted.length;
    const out = await invoke(s3Event({ key: "incoming/my+file%2B1.csv", versionId: "v1", size: 2048 }));
    expect(out.ok).toBe(true);
    expect(e2e.stub.submitted.length).toBe(before);
  });

  it("retries a throttled SubmitJob and then succeeds", async () => {
    e2e.stub.throttleNext(2);
    const before = e2e.stub.calls.filter((c) => c.operation === "SubmitJob").length;
    const out = await invoke(s3Event({ key: "incoming/throttled.csv", versionId: "v7" }));
    expect(out.ok).toBe(true);
    expect(e2e.stub.calls.filter((c) => c.operation === "SubmitJob").length - before).toBe(3);
  }, 60_000);

  it("submits nothing for a forged record of another bucket or outside the prefix, and succeeds (nothing to retry or dead-letter)", async () => {
    const before = e2e.stub.submitted.length;
    const out = await invoke(s3Event({ key: "incoming/huge.csv", versionId: "v1", size: 5 * 1024 ** 4, bucket: "attacker-bucket" }, { key: "private/a.csv", versionId: "v2" }));
    expect(out.ok).toBe(true);
    expect(out.result.ignored.map((i: { reason: string }) => i.reason)).toEqual(["other-bucket", "outside-prefix"]);
    expect(e2e.stub.submitted.length).toBe(before);
  });

  it("ignores s3:TestEvent and throws on an unrecognized event, so it reaches the dead-letter queue", async () => {
    const before = e2e.stub.submitted.length;
    expect((await invoke({ Service: "Amazon S3", Event: "s3:TestEvent", Bucket: "input-bucket" })).ok).toBe(true);
    const bad = await invoke({ surprise: true });
    expect(bad.ok).toBe(false);
    // Pulumi's serializer turns `super(message)` into `Error.call(this, message)`, which sets nothing on
    // `this`: the message must survive it, or dead-letter records say only the error's name.
    expect(bad.error).toMatchObject({ name: "UnsupportedEventError", message: expect.stringContaining("expected an S3 notification") });
    expect(e2e.stub.submitted.length).toBe(before);
  });

  // trigger.delivery: queue. The event source mapping reads back `batchItemFailures` (ReportBatchItemFailures):
  // only those messages return to the queue (Lambda developer guide, "Handling errors for an SQS event source in Lambda").
  it("answers an SQS batch with a partial batch response: submits the notification, ignores S3's test event, names the unreadable message", async () => {
    const before = e2e.stub.submitted.length;
    const testEvent = { Service: "Amazon S3", Event: "s3:TestEvent", Time: "2026-12-01T12:00:00.000Z", Bucket: "input-bucket" };
    const out = await invoke(sqsBatch(s3Event({ key: "incoming/queued+1.csv", versionId: "q1" }), "{not json", testEvent));
    expect(out).toMatchObject({ ok: true, result: { batchItemFailures: [{ itemIdentifier: "m-1" }] } });
    expect(e2e.stub.submitted.slice(before).map((b) => b.parameters.key)).toEqual(["incoming/queued 1.csv"]);
    // Delivered again (a standard queue's duplicate, or the message back after its visibility timeout): submitted once.
    expect(await invoke(sqsBatch(s3Event({ key: "incoming/queued+1.csv", versionId: "q1" })))).toMatchObject({ ok: true, result: { batchItemFailures: [] } });
    expect(e2e.stub.submitted.length - before).toBe(1);
  });

  it("fails only the message whose start job Batch refused, without a function error (the batch's others are deleted)", async () => {
    e2e.stub.rejectNext(1, "Job definition start-def is INACTIVE");
    const out = await invoke(sqsBatch(s3Event({ key: "incoming/queued-refused.csv", versionId: "q2" })));
    expect(out).toMatchObject({ ok: true, result: { batchItemFailures: [{ itemIdentifier: "m-0" }] } });
  });

  it("keeps the message of a record that failed, and of a bad environment at cold start", async () => {
    const unreadable = await invoke({ Records: [{ eventName: "ObjectCreated:Put", s3: { bucket: { name: "input-bucket" }, object: { key: "incoming/x.csv" } } }] });
    expect(unreadable.ok).toBe(false);
    expect(unreadable.error).toMatchObject({ name: "TriggerRecordsFailedError", message: expect.stringContaining("1 of 1 S3 record(s) failed") });
    // A SubmitJob that Batch refuses: the reason reaches the dead-letter record (what `redrive --dry-run`
    // shows), whatever realm or rewritten class its error comes from, never "[object Object]".
    e2e.stub.rejectNext(1, "Job definition start-def is INACTIVE");
    const refused = await invoke(s3Event({ key: "incoming/refused.csv", versionId: "v9" }));
    expect(refused.ok).toBe(false);
    expect(refused.error).toMatchObject({ name: "TriggerRecordsFailedError" });
    expect(refused.error!.message).toMatch(
      /^1 of 1 S3 record\(s\) failed: #0 s3:\/\/input-bucket\/incoming\/refused\.csv \(version v9\): start job start-[0-9a-f]{24}-refused-csv was not submitted: ClientException: Job definition start-def is INACTIVE$/,
    );
    // A bad environment fails the module load (the Lambda's init), naming the variable.
    await expect(invokeLambda(e2e.built.dir, s3Event({ key: "incoming/y.csv", versionId: "v1" }), e2e.stub.url, { START_JOB_TAGS: '{"aws:owner":"x"}' })).rejects.toThrow(
      /TriggerConfigError: Invalid S3 trigger environment: `START_JOB_TAGS`.*aws:owner/,
    );
  });
});
