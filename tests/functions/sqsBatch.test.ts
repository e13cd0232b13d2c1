/**
 * functions/handler.ts with `trigger.delivery: queue`: an event source mapping's SQS batch, each message's body
 * one S3 event, answered with a partial batch response (`ReportBatchItemFailures`): only the messages whose
 * records failed are named, so only they return to the queue, and one bad message never fails the batch
 * (Lambda developer guide, "Handling errors for an SQS event source in Lambda"). Batch is aws-sdk-client-mock's.
 */
import { ClientException, SubmitJobCommand, type SubmitJobCommandInput } from "@aws-sdk/client-batch";
import { describe, expect, it } from "vitest";
import { computeRunId } from "../../contract/run";
import { BUCKET, record, s3Event, sqsEvent, testEvent } from "./s3Fixtures";
import { batchAcceptsEverything, batchMock, context, memoryHandler, resetMocksBetweenTests, submitted } from "./triggerFixtures";

resetMocksBetweenTests();

/** Batch refuses the start job of `key` (an inactive definition), accepts every other. */
function batchRefuses(key: string): void {
  batchMock.on(SubmitJobCommand).callsFake(async (input: SubmitJobCommandInput) => {
    if (input.parameters!.key === key) throw new ClientException({ message: "Job definition pipeline-start:3 is INACTIVE", $metadata: {} });
    return { jobId: `job-${input.parameters!.key}`, jobName: input.jobName, $metadata: {} };
  });
}

const upload = (i: number) => s3Event(record(`incoming/file-${i}.csv`, { versionId: `v${i}` }));

describe("createTriggerHandler: an SQS batch (trigger.delivery: queue)", () => {
  it("given 10 messages of which one's start job Batch refuses, submits all 10 and names exactly that message, without throwing", async () => {
    batchRefuses("incoming/file-6.csv");
    const { handler, idempotency, log } = memoryHandler();

    const result = await handler(sqsEvent(...Array.from({ length: 10 }, (_, i) => upload(i))), context);

    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: "m-6" }] });
    expect(submitted().map((r) => r.parameters!.key)).toEqual(Array.from({ length: 10 }, (_, i) => `incoming/file-${i}.csv`));
    // The nine are remembered: when message 6 comes back, only its run is submitted.
    expect(idempotency.store.size).toBe(9);
    const errors = log.lines.filter((l) => l.level === "error");
    expect(errors).toEqual([
      {
        level: "error",
        message: "SQS messages failed; they will be received again",
        fields: {
          messages: [{ messageId: "m-6", failures: [expect.objectContaining({ index: 0, bucket: BUCKET, key: "incoming/file-6.csv", versionId: "v6", error: expect.stringMatching(/^StartJobSubmitError: start job start-[0-9a-f]{24}-file-6-csv was not submitted: ClientException: Job definition pipeline-start:3 is INACTIVE$/) })] }],
          submitted: 9,
        },
      },
    ]);
  });

  it("given a message whose notification holds two records, one failing, names that message once", async () => {
    batchRefuses("incoming/bad.csv");
    const { handler } = memoryHandler();
    const result = await handler(sqsEvent(upload(1), s3Event(record("incoming/ok.csv", { versionId: "a" }), record("incoming/bad.csv", { versionId: "b" }))), context);
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: "m-1" }] });
    expect(submitted()).toHaveLength(3);
  });

  it("given every message succeeding, answers with no failures (the whole batch is deleted)", async () => {
    batchAcceptsEverything();
    const { handler } = memoryHandler();
    expect(await handler(sqsEvent(upload(1), upload(2)), context)).toEqual({ batchItemFailures: [] });
    expect(submitted()).toHaveLength(2);
  });

  it("given an s3:TestEvent body (S3 sends one when the notification is saved), ignores it and fails nothing", async () => {
    batchAcceptsEverything();
    const { handler, log } = memoryHandler();
    const result = await handler(sqsEvent(testEvent, upload(1)), context);
    expect(result).toEqual({ batchItemFailures: [] });
    expect(submitted().map((r) => r.parameters!.key)).toEqual(["incoming/file-1.csv"]);
    expect(log.lines.filter((l) => l.message === "S3 records ignored, by reason")).toEqual([
      { level: "info", message: "S3 records ignored, by reason", fields: { count: 1, byReason: { "test-event": 1 } } },
    ]);
  });

  // Not S3's (only S3 may send to the queue, from the input bucket): it fails as it would every time, so after
  // maxReceiveCount receives the queue dead-letters it, where the alarm and `batch-pipeline redrive` show it.
  it("given a body that is not JSON, or JSON that is no S3 event, fails exactly those messages and submits the others", async () => {
    batchAcceptsEverything();
    const { handler, log } = memoryHandler();
    const result = await handler(sqsEvent(upload(1), "not json {", { hello: "world" }, upload(2)), context);
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: "m-1" }, { itemIdentifier: "m-2" }] });
    expect(submitted().map((r) => r.parameters!.key)).toEqual(["incoming/file-1.csv", "incoming/file-2.csv"]);
    const [logged] = log.lines.filter((l) => l.level === "error");
    expect((logged!.fields as { messages: { messageId: string; failures: { error: string }[] }[] }).messages.map((m) => [m.messageId, m.failures[0]!.error])).toEqual([
      ["m-1", expect.stringMatching(/^Error: the message body is no S3 event: SyntaxError: /)],
      ["m-2", expect.stringMatching(/^Error: the message body is no S3 event: UnsupportedEventError: expected an S3 notification/)],
    ]);
  });

  it("given a notification record of another bucket, starts nothing and fails nothing (nothing to retry)", async () => {
    batchAcceptsEverything();
    const { handler } = memoryHandler();
    const result = await handler(sqsEvent(s3Event(record("incoming/x.csv", { bucket: "attacker-bucket", versionId: "v" }))), context);
    expect(result).toEqual({ batchItemFailures: [] });
    expect(submitted()).toEqual([]);
  });

  // A standard queue delivers at least once: the same notification may come twice, even in one batch.
  it("given the same object version in two messages of one batch, submits once and fails neither", async () => {
    batchAcceptsEverything();
    const { handler, idempotency } = memoryHandler();
    const result = await handler(sqsEvent(upload(7), upload(3), upload(7)), context);
    expect(result).toEqual({ batchItemFailures: [] });
    expect(submitted().map((r) => r.parameters!.key)).toEqual(["incoming/file-7.csv", "incoming/file-3.csv"]);
    expect(idempotency.store.has(await computeRunId({ bucket: BUCKET, key: "incoming/file-7.csv", versionId: "v7" }))).toBe(true);
  });

  it("given the same object version in two messages and its submit failing, fails both (neither is deleted before the run is)", async () => {
    batchRefuses("incoming/file-7.csv");
    const { handler } = memoryHandler();
    const result = await handler(sqsEvent(upload(7), upload(3), upload(7)), context);
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: "m-0" }, { itemIdentifier: "m-2" }] });
    expect(submitted()).toHaveLength(2);
  });

  it("given a message delivered again in a later batch, submits nothing for it", async () => {
    batchAcceptsEverything();
    const { handler } = memoryHandler();
    await handler(sqsEvent(upload(1)), context);
    expect(await handler(sqsEvent({ messageId: "m-again", body: upload(1) }, upload(2)), context)).toEqual({ batchItemFailures: [] });
    expect(submitted().map((r) => r.parameters!.key)).toEqual(["incoming/file-1.csv", "incoming/file-2.csv"]);
  });

  it("still throws for a failed record of an S3 notification invoked directly (asynchronous invocation retries the event)", async () => {
    batchRefuses("incoming/file-1.csv");
    const { handler } = memoryHandler();
    await expect(handler(upload(1), context)).rejects.toThrow(/^1 of 1 S3 record\(s\) failed/);
  });
});
