/**
 * `batch-pipeline redrive`: each dead-letter message invoked through the trigger as is, deleted only after
 * a replay without a function error, everything else kept and visible again afterwards; dry runs, --max,
 * repeats of one message, malformed bodies, and the loop ending on an empty receive.
 *
 * The queue is the stateful fake of tests/cli/deadLetterQueueFake.ts (SQS's documented behaviour, worst case
 * for expired receipt handles); the clock is the test context's, which a slow Invoke moves on.
 */
import { InvokeCommand, LambdaClient, TooManyRequestsException } from "@aws-sdk/client-lambda";
import { ChangeMessageVisibilityCommand, DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { colors } from "../../../cli/app/context";
import { outcomeLine } from "../../../cli/redrive/command";
import { deadLetter, encode, FakeQueue, queueDeadLetter } from "../deadLetterQueueFake";
import { cli, cliContext, OUTPUTS, type TestContext } from "../support";

const sqs = mockClient(SQSClient);
const lambda = mockClient(LambdaClient);
const QUEUE = OUTPUTS.deadLetterQueueUrl;
const FUNCTION = OUTPUTS.triggerFunctionName;
const BUCKET = OUTPUTS.inputBucketName;

const ok = { StatusCode: 200, Payload: encode('{"jobs":[{"status":"submitted"}],"ignored":[]}') };
const unhandled = { StatusCode: 200, FunctionError: "Unhandled", Payload: encode('{"errorType":"StartJobSubmitError","errorMessage":"start job start-x was not submitted: ClientException: Job definition is INACTIVE"}') };
const throttled = () => new TooManyRequestsException({ $metadata: { httpStatusCode: 429 }, message: "Rate Exceeded." });

let ctx: TestContext;
let queue: FakeQueue;
beforeEach(() => {
  sqs.reset();
  lambda.reset();
  ctx = cliContext();
  queue = new FakeQueue(sqs, ctx.now);
  lambda.on(InvokeCommand).resolves(ok);
});

const invoked = () => lambda.commandCalls(InvokeCommand).map((c) => new TextDecoder().decode(c.args[0].input.Payload as Uint8Array));
const receives = () => sqs.commandCalls(ReceiveMessageCommand).map((c) => c.args[0].input);
const deletes = () => sqs.commandCalls(DeleteMessageCommand).map((c) => c.args[0].input);
const visibilityChanges = () => sqs.commandCalls(ChangeMessageVisibilityCommand).map((c) => c.args[0].input);
const receiveInput = (max: number, visibility = 120) => ({ QueueUrl: QUEUE, MaxNumberOfMessages: max, WaitTimeSeconds: 1, VisibilityTimeout: visibility, MessageSystemAttributeNames: ["ApproximateReceiveCount", "SentTimestamp"] });

describe("redrive", () => {
  it("deletes a message whose replay succeeded; keeps one that failed (Unhandled) and one that was throttled, visible again at once (exit 1)", async () => {
    queue.add("m-ok", deadLetter("incoming/a+b.csv")).add("m-bad", deadLetter("incoming/bad.csv")).add("m-throttled", deadLetter("incoming/busy.csv"));
    lambda.on(InvokeCommand).callsFake((input: { Payload: Uint8Array }) => {
      const body = new TextDecoder().decode(input.Payload);
      if (body.includes("bad.csv")) return unhandled;
      if (body.includes("busy.csv")) throw throttled();
      return ok;
    });
    const { code, stdout, stderr } = await cli(["--stack", "dev", "redrive"], ctx);
    expect(code).toBe(1);
    // Lambda API reference, Invoke: RequestResponse waits for the result; the body goes as is (the handler unwraps requestPayload).
    expect(lambda.commandCalls(InvokeCommand).map((c) => ({ ...c.args[0].input, Payload: new TextDecoder().decode(c.args[0].input.Payload as Uint8Array) }))).toEqual(
      ["incoming/a+b.csv", "incoming/bad.csv", "incoming/busy.csv"].map((key) => ({ FunctionName: FUNCTION, InvocationType: "RequestResponse", Payload: deadLetter(key) })),
    );
    expect(deletes()).toEqual([{ QueueUrl: QUEUE, ReceiptHandle: "m-ok#1" }]);
    expect(visibilityChanges()).toEqual([
      { QueueUrl: QUEUE, ReceiptHandle: "m-bad#2", VisibilityTimeout: 0 },
      { QueueUrl: QUEUE, ReceiptHandle: "m-throttled#3", VisibilityTimeout: 0 },
    ]);
    expect(queue.visible()).toEqual(["m-bad", "m-throttled"]);
    // One message a receive: its 120 s visibility timeout starts just before its own replay.
    expect(receives()).toEqual([receiveInput(1), receiveInput(1), receiveInput(1), receiveInput(1)]);
    expect(stdout).toBe(
      [
        `replayed m-ok: s3://${BUCKET}/incoming/a b.csv (version v-16), received 1×; deleted`,
        `failed   m-bad: s3://${BUCKET}/incoming/bad.csv (version v-16), received 1×; kept: function error (Unhandled): StartJobSubmitError: start job start-x was not submitted: ClientException: Job definition is INACTIVE`,
        `failed   m-throttled: s3://${BUCKET}/incoming/busy.csv (version v-17), received 1×; kept: AWS throttled Lambda Invoke ${FUNCTION} past the SDK's retries: Rate Exceeded.; try again in a minute`,
        "1 replayed and deleted, 2 failed and kept",
        "",
      ].join("\n"),
    );
    expect(stderr).toBe(`replaying ${QUEUE} through ${FUNCTION}\n`);
  });

  it("exit 0 when every replay succeeded; the loop ends on the first receive that brings nothing (25 messages, one a receive, then empty)", async () => {
    for (let i = 0; i < 25; i++) queue.add(`m-${i}`, deadLetter(`incoming/f${i}.csv`));
    const { code, stdout } = await cli(["--stack", "dev", "redrive"], ctx);
    expect(code).toBe(0);
    expect(receives()).toEqual(Array.from({ length: 26 }, () => receiveInput(1)));
    expect(invoked()).toHaveLength(25);
    expect(queue.messages).toEqual([]);
    expect(stdout.trimEnd().split("\n").at(-1)).toBe("25 replayed and deleted, 0 failed and kept");
  });

  it("an empty queue: one receive, nothing to do, exit 0", async () => {
    const { code, stdout } = await cli(["--stack", "dev", "redrive"], ctx);
    expect(code).toBe(0);
    expect(receives()).toEqual([receiveInput(1)]);
    expect(stdout).toBe("the dead-letter queue has no messages: nothing to redrive\n");
  });

  it("a message received twice in one receive (at-least-once; a dry run reads 10 at a time) is described once; both copies are visible again", async () => {
    queue.add("m-1", deadLetter("incoming/a.csv")).add("m-1", deadLetter("incoming/a.csv")).add("m-2", deadLetter("incoming/b.csv"));
    const { code, stdout } = await cli(["--stack", "dev", "redrive", "--dry-run"], ctx);
    expect(code).toBe(0);
    expect(stdout.trimEnd().split("\n").map((l) => l.split(":")[0])).toEqual(["would replay m-1", "would replay m-2", "2 would be replayed (dry run"]);
    expect(visibilityChanges().map((v) => [v.ReceiptHandle, v.VisibilityTimeout])).toEqual([["m-1#1", 0], ["m-1#2", 0], ["m-2#3", 0]]);
    expect(queue.visible()).toEqual(["m-1", "m-1", "m-2"]);
  });

  it("a copy that comes in a later receive is not replayed again: deleted after a success, hidden then restored after a failure", async () => {
    queue.perReceive = 1;
    queue.add("m-ok", deadLetter("incoming/a.csv")).add("m-ok", deadLetter("incoming/a.csv")).add("m-bad", deadLetter("incoming/bad.csv")).add("m-bad", deadLetter("incoming/bad.csv"));
    lambda.on(InvokeCommand).callsFake((input: { Payload: Uint8Array }) => (new TextDecoder().decode(input.Payload).includes("bad.csv") ? unhandled : ok));
    const { code } = await cli(["--stack", "dev", "redrive"], ctx);
    expect(code).toBe(1);
    expect(invoked()).toEqual([deadLetter("incoming/a.csv"), deadLetter("incoming/bad.csv")]);
    expect(deletes().map((d) => d.ReceiptHandle)).toEqual(["m-ok#1", "m-ok#2"]);
    // The copy stays hidden by its receive (so receives move on), then both are visible again when done.
    expect(visibilityChanges().map((v) => [v.ReceiptHandle, v.VisibilityTimeout])).toEqual([
      ["m-bad#3", 0],
      ["m-bad#4", 0],
    ]);
    expect(queue.visible()).toEqual(["m-bad", "m-bad"]);
    expect(receives()).toHaveLength(5);
  });

  it("Invokes of 60 s each (the trigger's timeout): every message is received just before its replay, so each delete runs on a live handle (exit 0)", async () => {
    for (const key of ["a", "b", "c"]) queue.add(`m-${key}`, deadLetter(`incoming/${key}.csv`));
    lambda.on(InvokeCommand).callsFake(async () => {
      await ctx.sleep(60_000);
      return ok;
    });
    const { code, stdout, stderr } = await cli(["--stack", "dev", "redrive"], ctx);
    expect(code).toBe(0);
    expect(stderr).toBe(`replaying ${QUEUE} through ${FUNCTION}\n`);
    expect(deletes().map((d) => d.ReceiptHandle)).toEqual(["m-a#1", "m-b#2", "m-c#3"]);
    expect(queue.messages).toEqual([]);
    expect(stdout.trimEnd().split("\n").at(-1)).toBe("3 replayed and deleted, 0 failed and kept");
  });

  it("a replay that outlasts the 120 s timeout: its delete on the expired handle fails for that message alone, the next is still replayed (exit 1)", async () => {
    queue.add("m-slow", deadLetter("incoming/slow.csv")).add("m-next", deadLetter("incoming/next.csv"));
    lambda.on(InvokeCommand).callsFake(async (input: { Payload: Uint8Array }) => {
      // The SDK retried a throttled Invoke: 130 s in all.
      if (new TextDecoder().decode(input.Payload).includes("slow.csv")) await ctx.sleep(130_000);
      return ok;
    });
    const { code, stdout, stderr } = await cli(["--stack", "dev", "redrive"], ctx);
    expect(code).toBe(1);
    expect(stdout.trimEnd().split("\n")).toEqual([
      `failed   m-slow: s3://${BUCKET}/incoming/slow.csv (version v-17), received 1×; kept: replayed, but not deleted: the replay outlasted its 120 s visibility timeout (SQS DeleteMessage: InvalidParameterValue, the receipt handle has expired); a later redrive replays it again, which submits nothing twice`,
      `replayed m-next: s3://${BUCKET}/incoming/next.csv (version v-17), received 1×; deleted`,
      "1 replayed and deleted, 1 failed and kept",
    ]);
    // m-slow came back (its timeout ran out) and was kept, not replayed again; its expired first handle needs nothing at the end.
    expect(invoked()).toEqual([deadLetter("incoming/slow.csv"), deadLetter("incoming/next.csv")]);
    expect(visibilityChanges().map((v) => [v.ReceiptHandle, v.VisibilityTimeout])).toEqual([["m-slow#1", 0], ["m-slow#2", 0]]);
    expect(queue.visible()).toEqual(["m-slow"]);
    expect(stderr).toBe(`replaying ${QUEUE} through ${FUNCTION}\n`);
  });

  it("ChangeMessageVisibility refused (AccessDenied) when a kept message is made visible again: a warning for that message, the summary still printed (exit 1)", async () => {
    queue.add("m-bad", deadLetter("incoming/bad.csv")).add("m-ok", deadLetter("incoming/a.csv"));
    lambda.on(InvokeCommand).callsFake((input: { Payload: Uint8Array }) => (new TextDecoder().decode(input.Payload).includes("bad.csv") ? unhandled : ok));
    const denied = "User: arn:aws:iam::123456789012:user/operator is not authorized to perform: sqs:changemessagevisibility";
    sqs.on(ChangeMessageVisibilityCommand).rejects(Object.assign(new Error(denied), { name: "AccessDenied", $metadata: { httpStatusCode: 403 } }));
    const { code, stdout, stderr } = await cli(["--stack", "dev", "redrive"], ctx);
    expect(code).toBe(1);
    expect(stdout.trimEnd().split("\n").at(-1)).toBe("1 replayed and deleted, 1 failed and kept");
    expect(stderr).toBe(`replaying ${QUEUE} through ${FUNCTION}\nwarning: message m-bad: AWS denied SQS ChangeMessageVisibility: ${denied} (give your identity this permission, or use another AWS_PROFILE)\n`);
  });

  it("--max 2 handles two of five: asks for two, invokes two, leaves three", async () => {
    for (let i = 0; i < 5; i++) queue.add(`m-${i}`, deadLetter(`incoming/f${i}.csv`));
    const { code, stdout } = await cli(["--stack", "dev", "redrive", "--max", "2"], ctx);
    expect(code).toBe(0);
    expect(receives()).toEqual([receiveInput(1), receiveInput(1)]);
    expect(invoked()).toEqual([deadLetter("incoming/f0.csv"), deadLetter("incoming/f1.csv")]);
    expect(queue.messages.map((m) => m.id)).toEqual(["m-2", "m-3", "m-4"]);
    expect(stdout.trimEnd().split("\n").at(-1)).toBe("2 replayed and deleted, 0 failed and kept");
  });

  it("a body that is not JSON is kept and reported, never invoked or deleted (exit 1)", async () => {
    queue.add("m-junk", "{not json").add("m-ok", deadLetter("incoming/a.csv"));
    const { code, stdout } = await cli(["--stack", "dev", "redrive"], ctx);
    expect(code).toBe(1);
    expect(invoked()).toEqual([deadLetter("incoming/a.csv")]);
    expect(deletes()).toEqual([{ QueueUrl: QUEUE, ReceiptHandle: "m-ok#2" }]);
    expect(queue.visible()).toEqual(["m-junk"]);
    expect(stdout).toContain("malformed m-junk: no S3 object in the event, received 1×; kept: the body is not JSON (");
    expect(stdout.trimEnd().split("\n").at(-1)).toBe("1 replayed and deleted, 0 failed and kept, 1 malformed and kept");
  });

  it("--dry-run invokes and deletes nothing, hides each message for 30 s only, and shows them visible again", async () => {
    queue.add("m-1", deadLetter("incoming/a.csv")).add("m-2", deadLetter("incoming/b.csv", "StartJobSubmitError: DynamoDB unavailable"));
    const { code, stdout } = await cli(["--stack", "dev", "redrive", "--dry-run"], ctx);
    expect(code).toBe(0);
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0);
    expect(deletes()).toEqual([]);
    expect(receives()).toEqual([receiveInput(10, 30), receiveInput(10, 30)]);
    expect(visibilityChanges().map((v) => [v.ReceiptHandle, v.VisibilityTimeout])).toEqual([
      ["m-1#1", 0],
      ["m-2#2", 0],
    ]);
    expect(queue.visible()).toEqual(["m-1", "m-2"]);
    expect(stdout).toBe(
      [
        `would replay m-1: s3://${BUCKET}/incoming/a.csv (version v-14), received 1×; it failed with TriggerRecordsFailedError: 1 of 1 S3 record(s) failed: #0 s3://b/k: start job was not submitted: TooManyRequestsException`,
        `would replay m-2: s3://${BUCKET}/incoming/b.csv (version v-14), received 1×; it failed with TriggerRecordsFailedError: StartJobSubmitError: DynamoDB unavailable`,
        "2 would be replayed (dry run: nothing invoked or deleted; each message was hidden for at most 30 s and is visible again)",
        "",
      ].join("\n"),
    );
  });

  // trigger.delivery: queue. The trigger's queue dead-letters a message after its last receive: the body is S3's
  // notification itself, with no invocation record around it and no error (that is in the trigger's logs).
  describe("messages the trigger's queue dead-lettered (trigger.delivery: queue)", () => {
    it("--dry-run reads the S3 notification body, its object, and says where the error is", async () => {
      queue.add("q-1", queueDeadLetter("incoming/queued+a.csv"));
      const { code, stdout } = await cli(["--stack", "dev", "redrive", "--dry-run"], ctx);
      expect(code).toBe(0);
      expect(stdout.split("\n")[0]).toBe(
        `would replay q-1: s3://${BUCKET}/incoming/queued a.csv (version v-21), received 1×; the trigger's queue moved it here after its last receive failed (the error is in the trigger's log group)`,
      );
    });

    it("replays the body as is through the trigger (which reads an S3 notification), deleting it on success and keeping a failure", async () => {
      queue.add("q-ok", queueDeadLetter("incoming/a.csv")).add("q-bad", queueDeadLetter("incoming/bad.csv"));
      lambda.on(InvokeCommand).callsFake((input: { Payload: Uint8Array }) => (new TextDecoder().decode(input.Payload).includes("bad.csv") ? unhandled : ok));
      const { code, stdout } = await cli(["--stack", "dev", "redrive", "--json"], ctx);
      expect(code).toBe(1);
      expect(invoked()).toEqual([queueDeadLetter("incoming/a.csv"), queueDeadLetter("incoming/bad.csv")]);
      expect(deletes()).toEqual([{ QueueUrl: QUEUE, ReceiptHandle: "q-ok#1" }]);
      expect(queue.visible()).toEqual(["q-bad"]);
      expect(JSON.parse(stdout).messages.map((m: Record<string, unknown>) => [m.messageId, m.result, m.origin, m.objects, m.originalError])).toEqual([
        ["q-ok", "replayed", "queue", [{ bucket: BUCKET, key: "incoming/a.csv", versionId: "v-14" }], undefined],
        ["q-bad", "failed", "queue", [{ bucket: BUCKET, key: "incoming/bad.csv", versionId: "v-16" }], undefined],
      ]);
    });
  });

  it("--json prints one document with each message's result and nothing else on stdout", async () => {
    queue.add("m-ok", deadLetter("incoming/a.csv")).add("m-bad", deadLetter("incoming/bad.csv"));
    lambda.on(InvokeCommand).callsFake((input: { Payload: Uint8Array }) => (new TextDecoder().decode(input.Payload).includes("bad.csv") ? unhandled : ok));
    const { code, stdout, stderr } = await cli(["--stack", "dev", "redrive", "--json"], ctx);
    expect(code).toBe(1);
    expect(stderr).toBe("");
    const original = "TriggerRecordsFailedError: 1 of 1 S3 record(s) failed: #0 s3://b/k: start job was not submitted: TooManyRequestsException";
    expect(JSON.parse(stdout)).toEqual({
      queueUrl: QUEUE,
      functionName: FUNCTION,
      dryRun: false,
      messages: [
        { messageId: "m-ok", result: "replayed", origin: "invocation", objects: [{ bucket: BUCKET, key: "incoming/a.csv", versionId: "v-14" }], receiveCount: 1, originalError: original },
        {
          messageId: "m-bad",
          result: "failed",
          origin: "invocation",
          objects: [{ bucket: BUCKET, key: "incoming/bad.csv", versionId: "v-16" }],
          receiveCount: 1,
          originalError: original,
          detail: "function error (Unhandled): StartJobSubmitError: start job start-x was not submitted: ClientException: Job definition is INACTIVE",
        },
      ],
      warnings: [],
      summary: "1 replayed and deleted, 1 failed and kept",
    });
  });

  it("on a TTY colours what happened to each message", async () => {
    const tty = cliContext({ isTTY: true });
    tty.term.color = colors(true);
    queue = new FakeQueue(sqs, tty.now);
    queue.add("m-ok", deadLetter("incoming/a.csv"));
    const { code, stdout } = await cli(["--stack", "dev", "redrive"], tty);
    expect(code).toBe(0);
    expect(stdout).toContain(`\x1b[32mreplayed\x1b[39m m-ok: s3://${BUCKET}/incoming/a.csv`);
  });

  it.each(["0", "-1", "two", "1.5"])("--max %s is refused (exit 2)", async (max) => {
    const { code, stderr } = await cli(["--stack", "dev", "redrive", "--max", max], ctx);
    expect(code).toBe(2);
    expect(stderr).toBe(`error: --max ${max}: must be a whole number of messages, at least 1\n`);
    expect(sqs.calls()).toHaveLength(0);
  });
});

describe("outcomeLine: what a dead-lettered message and the Lambda say reaches the terminal escaped", () => {
  it("escapes the bucket, version, message id and the error (which carries a decoded S3 key)", () => {
    const message = {
      messageId: "m\u001b[2J",
      receiptHandle: "r",
      body: "{}",
      objects: [{ bucket: "b\u001b]0;x\u0007", key: "k.csv", versionId: "v\u001b[31m" }],
      error: "Error: run failed for s3://b/evil\u001b[2J.csv",
      origin: "invocation" as const,
    };
    for (const result of ["dry-run", "failed"] as const) {
      const line = outcomeLine({ message, result, detail: "Error: s3://b/evil\u001b[2J.csv" }, colors(false));
      expect(line).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
      expect(line).toContain("\\x1b[2J");
    }
  });
});
