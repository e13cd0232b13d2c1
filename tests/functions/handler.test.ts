/** functions/handler.ts: event shapes, duplicate delivery, one bad record among good ones (in-memory idempotency). */
import { runInNewContext } from "node:vm";
import { ClientException, SubmitJobCommand, type SubmitJobCommandInput } from "@aws-sdk/client-batch";
import { describe, expect, it } from "vitest";
import { TAG_KEYS } from "../../contract";
import { TriggerRecordsFailedError } from "../../functions/handler";
import { computeRunId } from "../../contract/run";
import { BUCKET, eventBridge, record, s3Event, testEvent } from "./s3Fixtures";
import { batchAcceptsEverything, batchMock, context, DEFINITION, KEY_FILTER, memoryHandler, QUEUE, resetMocksBetweenTests, STACK, submitted } from "./triggerFixtures";

resetMocksBetweenTests();

describe("createTriggerHandler: event shapes (in-memory idempotency)", () => {
  it("given one versioned record, submits exactly one start job for it", async () => {
    batchAcceptsEverything();
    const { handler } = memoryHandler();
    const event = s3Event(record("incoming/my+file%2B1.csv", { versionId: "v1", size: 0, eTag: "etag-1" }));
    const runId = await computeRunId({ bucket: BUCKET, key: "incoming/my file+1.csv", versionId: "v1" });

    const result = await handler(event, context);

    expect(submitted()).toEqual([
      {
        jobName: `start-${runId}-my-file-1-csv`,
        jobQueue: QUEUE,
        jobDefinition: DEFINITION,
        parameters: { runId, bucket: BUCKET, key: "incoming/my file+1.csv", versionId: "v1", size: "0" },
        containerOverrides: {
          environment: [
            { name: "PIPELINE_RUN_ID", value: runId },
            { name: "PIPELINE_INPUT_BUCKET", value: BUCKET },
            { name: "PIPELINE_INPUT_KEY", value: "incoming/my file+1.csv" },
            { name: "PIPELINE_INPUT_VERSION_ID", value: "v1" },
            { name: "PIPELINE_INPUT_SIZE", value: "0" },
            { name: "PIPELINE_INPUT_ETAG", value: "etag-1" },
          ],
        },
        tags: {
          "pipeline:run-id": runId,
          "pipeline:input-bucket": BUCKET,
          "pipeline:input-key": "incoming/my file+1.csv",
          "pipeline:step": "start",
          // What the orchestrator's IAM keys on: it may terminate only jobs tagged with its own stack.
          [TAG_KEYS.stack]: STACK,
        },
        propagateTags: true,
      },
    ]);
    expect(result.jobs).toEqual([
      {
        status: "submitted",
        runId,
        jobId: "job-1",
        jobName: `start-${runId}-my-file-1-csv`,
        jobArn: "arn:aws:batch:eu-west-1:123456789012:job/job-1",
        bucket: BUCKET,
        key: "incoming/my file+1.csv",
        versionId: "v1",
      },
    ]);
  });

  it("given several records with +, %2B and unicode keys, submits one job per record with the decoded keys", async () => {
    batchAcceptsEverything();
    const { handler } = memoryHandler();
    await handler(
      s3Event(
        record("incoming/a+b.csv", { versionId: "1" }),
        record("incoming/a%2Bb.csv", { versionId: "2" }),
        record("incoming/%E6%95%B0%E6%8D%AE+caf%C3%A9.csv", { versionId: "3" }),
      ),
      context,
    );
    expect(submitted().map((r) => r.parameters!.key)).toEqual(["incoming/a b.csv", "incoming/a+b.csv", "incoming/数据 café.csv"]);
    expect(new Set(submitted().map((r) => r.jobName)).size).toBe(3);
  });

  it("given an unversioned bucket, keys the run on the sequencer and sends an empty version id", async () => {
    batchAcceptsEverything();
    const { handler } = memoryHandler();
    await handler(s3Event(record("incoming/u.csv", { sequencer: "0A1" }), record("incoming/u.csv", { sequencer: "0A2" })), context);
    const [first, second] = submitted();
    expect(first!.parameters!.versionId).toBe("");
    expect(first!.parameters!.runId).toBe(await computeRunId({ bucket: BUCKET, key: "incoming/u.csv", sequencer: "0A1" }));
    // Two writes of the same key are two runs.
    expect(second!.parameters!.runId).not.toBe(first!.parameters!.runId);
  });

  it("given s3:TestEvent, submits nothing and logs why", async () => {
    const { handler, log } = memoryHandler();
    expect(await handler(testEvent, context)).toEqual({ jobs: [], ignored: [{ index: 0, reason: "test-event", eventName: "s3:TestEvent", bucket: BUCKET }] });
    expect(submitted()).toEqual([]);
    expect(log.lines).toEqual([
      { level: "info", message: "S3 record ignored", fields: { index: 0, reason: "test-event", eventName: "s3:TestEvent", bucket: BUCKET } },
      { level: "info", message: "S3 records ignored, by reason", fields: { count: 1, byReason: { "test-event": 1 } } },
    ]);
  });

  it("given ObjectRemoved and a key under the output prefix, submits nothing", async () => {
    const { handler, log } = memoryHandler();
    const result = await handler(
      s3Event(record("incoming/x.csv", { eventName: "ObjectRemoved:Delete" }), record("results/run/out.csv", { versionId: "v" })),
      context,
    );
    expect(submitted()).toEqual([]);
    expect(result.ignored.map((i) => i.reason)).toEqual(["not-object-created", "ignored-prefix"]);
    expect(log.lines.map((l) => l.message)).toEqual(["S3 record ignored", "S3 record ignored", "S3 records ignored, by reason"]);
  });

  // Issue 17: a forged event (another bucket, a key outside the prefix or without the suffix, a huge size
  // to start a run at the workflow's maximum width) starts nothing; it is logged as a warning and the
  // invocation succeeds, so nothing is retried or dead-lettered.
  it("given records of another bucket, outside the prefix or without the suffix, submits none, warns for each and succeeds", async () => {
    batchAcceptsEverything();
    const { handler, log } = memoryHandler(undefined, { ...KEY_FILTER, suffix: ".csv" });
    const result = await handler(
      s3Event(
        record("incoming/huge.csv", { bucket: "attacker-bucket", size: 5 * 1024 ** 4, versionId: "v1" }),
        record("private/secret.csv", { versionId: "v2" }),
        record("incoming/run.sh", { versionId: "v3" }),
      ),
      context,
    );
    expect(submitted()).toEqual([]);
    expect(result).toEqual({ jobs: [], ignored: expect.any(Array) });
    expect(result.ignored.map((i) => [i.index, i.reason])).toEqual([[0, "other-bucket"], [1, "outside-prefix"], [2, "outside-suffix"]]);
    const warnings = log.lines.filter((l) => l.level === "warn");
    expect(warnings.map((l) => [l.message, l.fields?.bucket, l.fields?.key])).toEqual([
      ["S3 record ignored: not an object of the trigger's bucket, prefix and suffix", "attacker-bucket", "incoming/huge.csv"],
      ["S3 record ignored: not an object of the trigger's bucket, prefix and suffix", BUCKET, "private/secret.csv"],
      ["S3 record ignored: not an object of the trigger's bucket, prefix and suffix", BUCKET, "incoming/run.sh"],
    ]);
    expect(log.lines.at(-1)).toEqual({ level: "info", message: "S3 records ignored, by reason", fields: { count: 3, byReason: { "other-bucket": 1, "outside-prefix": 1, "outside-suffix": 1 } } });
  });

  // The S3 console's "Create folder" writes a zero-byte `<prefix>/` object (S3 user guide, "Naming Amazon
  // S3 objects"), which S3 notifies as ObjectCreated: it must not start a run.
  it("given folder markers among uploads, submits only the uploads and logs one count of ignored records by reason", async () => {
    batchAcceptsEverything();
    const { handler, log } = memoryHandler();
    const result = await handler(
      s3Event(
        record("incoming/2026/", { size: 0, versionId: "1" }),
        record("incoming/2026/11/", { size: 0, versionId: "2" }),
        record("incoming/2026/data.csv", { size: 10, versionId: "3" }),
        record("incoming/2026/x.csv", { eventName: "ObjectRemoved:Delete" }),
      ),
      context,
    );
    expect(submitted().map((r) => r.parameters!.key)).toEqual(["incoming/2026/data.csv"]);
    expect(result.ignored.map((i) => [i.index, i.reason])).toEqual([[0, "folder-marker"], [1, "folder-marker"], [3, "not-object-created"]]);
    const summaries = log.lines.filter((l) => l.message === "S3 records ignored, by reason");
    expect(summaries).toEqual([{ level: "info", message: "S3 records ignored, by reason", fields: { count: 3, byReason: { "folder-marker": 2, "not-object-created": 1 } } }]);
    expect(log.lines.filter((l) => l.message === "S3 record ignored")).toHaveLength(3);
  });

  it("given nothing ignored, logs no count of ignored records", async () => {
    batchAcceptsEverything();
    const { handler, log } = memoryHandler();
    await handler(s3Event(record("incoming/only.csv", { versionId: "1" })), context);
    expect(log.lines.map((l) => l.message)).toEqual(["start job submitted"]);
  });

  // Was "with the key as delivered" (`a+b` kept), which is wrong: EventBridge keys are URL-encoded
  // (Powertools for AWS Lambda (Python), S3EventBridgeNotificationObject.key: unquote_plus).
  it("given an EventBridge Object Created event, submits the start job with the URL-decoded key", async () => {
    batchAcceptsEverything();
    const { handler } = memoryHandler();
    await handler(eventBridge("incoming/a+b%2B.csv", { versionId: "v7", size: 5 }), context);
    expect(submitted()).toHaveLength(1);
    expect(submitted()[0]!.parameters).toMatchObject({ key: "incoming/a b+.csv", versionId: "v7", size: "5" });
  });

  it("given the same record twice in one event, submits once", async () => {
    batchAcceptsEverything();
    const { handler } = memoryHandler();
    const result = await handler(s3Event(record("incoming/d.csv", { versionId: "v" }), record("incoming/d.csv", { versionId: "v" })), context);
    expect(submitted()).toHaveLength(1);
    expect(result.jobs).toHaveLength(1);
  });

  it("given an unrecognisable event, throws so it ends in the dead-letter queue", async () => {
    const { handler } = memoryHandler();
    await expect(handler({ hello: "world" }, context)).rejects.toThrow(/expected an S3 notification/);
  });
});

describe("createTriggerHandler: duplicate delivery", () => {
  it("given the same event twice (in-memory store), the second call submits nothing and returns the first job", async () => {
    batchAcceptsEverything();
    const { handler, log } = memoryHandler();
    const event = s3Event(record("incoming/dup.csv", { versionId: "v1" }));

    const first = await handler(event, context);
    const second = await handler(event, context);

    expect(submitted()).toHaveLength(1);
    expect(second.jobs).toEqual([{ ...first.jobs[0], status: "duplicate" }]);
    expect(log.lines.map((l) => l.message)).toEqual(["start job submitted", "start job already submitted for this object version"]);
  });
});

describe("createTriggerHandler: one bad record never drops the others", () => {
  it("given three records of which one fails, submits the other two and throws naming the failed record", async () => {
    batchMock.on(SubmitJobCommand).callsFake(async (input: SubmitJobCommandInput) => {
      if (input.parameters!.key === "incoming/bad.csv") throw new ClientException({ message: "jobDefinition is INACTIVE", $metadata: {} });
      return { jobId: `job-${input.parameters!.key}`, jobName: input.jobName, $metadata: {} };
    });
    const { handler, idempotency, log } = memoryHandler();
    const event = s3Event(record("incoming/a.csv", { versionId: "1" }), record("incoming/bad.csv", { versionId: "2" }), record("incoming/c.csv", { versionId: "3" }));

    const error = await handler(event, context).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(TriggerRecordsFailedError);
    expect(error).toBeInstanceOf(AggregateError);
    const failed = error as TriggerRecordsFailedError;
    expect(failed.message).toMatch(/^1 of 3 S3 record\(s\) failed: #1 s3:\/\/input-bucket\/incoming\/bad\.csv \(version 2\): start job start-[0-9a-f]{24}-bad-csv was not submitted: ClientException: jobDefinition is INACTIVE$/);
    expect(failed.failures.map((f) => [f.index, f.key])).toEqual([[1, "incoming/bad.csv"]]);
    expect(failed.errors).toHaveLength(1);
    expect(submitted().map((r) => r.parameters!.key)).toEqual(["incoming/a.csv", "incoming/bad.csv", "incoming/c.csv"]);
    expect(idempotency.store.size).toBe(2);
    expect(log.lines.filter((l) => l.level === "error")).toHaveLength(1);

    // Lambda's retry of the whole event submits only the record that failed.
    batchMock.resetHistory();
    batchAcceptsEverything();
    const retried = await handler(event, context);
    expect(submitted().map((r) => r.parameters!.key)).toEqual(["incoming/bad.csv"]);
    expect(retried.jobs.map((j) => j.status)).toEqual(["duplicate", "submitted", "duplicate"]);
  });

  it("given an unreadable record among good ones, submits the good ones and throws naming it", async () => {
    batchAcceptsEverything();
    const { handler } = memoryHandler();
    const error = await handler(s3Event(record("incoming/ok.csv", { versionId: "1" }), record("incoming/bad%E0%A4%A.csv", { versionId: "2" })), context).catch(
      (e: unknown) => e,
    );
    expect(submitted()).toHaveLength(1);
    expect((error as TriggerRecordsFailedError).message).toMatch(/^1 of 2 S3 record\(s\) failed: #1: record 1 \(ObjectCreated:Put\) has a malformed URL-encoded key/);
  });
});

describe("createTriggerHandler: the reason a record failed, whatever was thrown", () => {
  // In the serialized Lambda a failure need not be `instanceof Error` (Pulumi rewrites classes; an SDK error
  // may come from another realm or copy): its name and message still reach the dead-letter record, which
  // is what `redrive --dry-run` shows, never "[object Object]".
  const failWith = async (thrown: () => unknown) => {
    batchMock.on(SubmitJobCommand).callsFake(async () => {
      throw thrown();
    });
    const { handler, log } = memoryHandler();
    const error = (await handler(s3Event(record("incoming/bad.csv", { versionId: "2" })), context).catch((e: unknown) => e)) as TriggerRecordsFailedError;
    return { message: error.message, logged: log.lines.filter((l) => l.level === "error").map((l) => (l.fields as { failures: { error: string }[] }).failures[0]!.error) };
  };
  const head = /^1 of 1 S3 record\(s\) failed: #0 s3:\/\/input-bucket\/incoming\/bad\.csv \(version 2\): start job start-[0-9a-f]{24}-bad-csv was not submitted: /.source;

  it("given a plain object with name and message (no Error prototype), keeps both", async () => {
    const { message, logged } = await failWith(() => ({ name: "ClientException", message: "Job definition pipeline-start:3 is INACTIVE" }));
    expect(message).toMatch(new RegExp(`${head}ClientException: Job definition pipeline-start:3 is INACTIVE$`));
    expect(logged).toEqual([expect.stringMatching(/^StartJobSubmitError: start job .* was not submitted: ClientException: Job definition pipeline-start:3 is INACTIVE$/)]);
  });

  it("given an Error from another realm (vm.runInNewContext), keeps its name and message once", async () => {
    const foreign = runInNewContext("new TypeError('fetch failed')") as unknown;
    expect(foreign instanceof Error).toBe(false);
    const { message } = await failWith(() => foreign);
    expect(message).toMatch(new RegExp(`${head}TypeError: fetch failed$`));
  });

  it("given a value with no message, shows it as JSON", async () => {
    const { message } = await failWith(() => ({ code: 500, retryable: false }));
    expect(message).toMatch(new RegExp(`${head}Error: \\{"code":500,"retryable":false\\}$`));
    expect(message).not.toContain("[object Object]");
  });
});
