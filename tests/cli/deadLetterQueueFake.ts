/**
 * The trigger's dead-letter queue for the `redrive` tests: a stateful fake behind aws-sdk-client-mock,
 * and the messages Lambda's on-failure destination stores in it.
 *
 * It behaves as SQS documents (SQS developer guide, "Visibility timeout", "At-least-once delivery"; SQS API
 * reference, ReceiveMessage, DeleteMessage, ChangeMessageVisibility): a received message is hidden for the
 * visibility timeout; each receive gives a new receipt handle and only the newest one changes visibility; a
 * standard queue may hand out a copy of a message it already handed out (same MessageId); at most 10
 * messages per receive, fewer when {@link FakeQueue.perReceive} says so. Worst case: a handle
 * whose visibility timeout ran out is refused by ChangeMessageVisibility and DeleteMessage alike
 * (InvalidParameterValue "The receipt handle has expired.", as aws-sdk-java #1628 and aws-sdk-js #1750 meet it).
 */
import { ChangeMessageVisibilityCommand, DeleteMessageCommand, ReceiveMessageCommand, type ReceiveMessageCommandInput } from "@aws-sdk/client-sqs";
import type { AwsStub } from "aws-sdk-client-mock";
import { OUTPUTS } from "./support";

const FUNCTION = OUTPUTS.triggerFunctionName;
const BUCKET = OUTPUTS.inputBucketName;

/** One stored copy of a message: a standard queue may hold several copies of one MessageId. */
export interface QueuedMessage {
  id: string;
  body: string;
  visibleAt: number;
  receives: number;
  receipt?: string;
}

export class FakeQueue {
  readonly messages: QueuedMessage[] = [];
  /** Messages a receive returns at most, whatever was asked: SQS may return fewer than MaxNumberOfMessages. */
  perReceive = 10;
  private handedOut = 0;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any client's stub
  constructor(sqs: AwsStub<any, any, any>, private readonly now: () => number) {
    sqs.on(ReceiveMessageCommand).callsFake((input: ReceiveMessageCommandInput) => this.receive(input));
    sqs.on(DeleteMessageCommand).callsFake(({ ReceiptHandle }: { ReceiptHandle: string }) => {
      // Only the newest receipt deletes; an older one "succeeds" and deletes nothing (DeleteMessage reference).
      const i = this.messages.findIndex((m) => m.receipt === ReceiptHandle);
      if (i >= 0) this.expired(this.messages[i]!);
      if (i >= 0) this.messages.splice(i, 1);
      return {};
    });
    sqs.on(ChangeMessageVisibilityCommand).callsFake(({ ReceiptHandle, VisibilityTimeout }: { ReceiptHandle: string; VisibilityTimeout: number }) => {
      const m = this.messages.find((q) => q.receipt === ReceiptHandle);
      if (!m) throw Object.assign(new Error("The input receipt handle is invalid."), { name: "ReceiptHandleIsInvalid", $metadata: { httpStatusCode: 400 } });
      this.expired(m);
      m.visibleAt = this.now() + VisibilityTimeout * 1000;
      return {};
    });
  }

  /** Refuses a handle whose visibility timeout has run out. */
  private expired(m: QueuedMessage): void {
    if (m.visibleAt > this.now()) return;
    const message = `Value ${m.receipt} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.`;
    throw Object.assign(new Error(message), { name: "InvalidParameterValue", $metadata: { httpStatusCode: 400 } });
  }

  /** Stores a message (once more: a second copy of the same MessageId, as at-least-once delivery may). */
  add(id: string, body: string): this {
    this.messages.push({ id, body, visibleAt: 0, receives: 0 });
    return this;
  }

  private hand(m: QueuedMessage) {
    m.receives++;
    m.receipt = `${m.id}#${++this.handedOut}`;
    return { MessageId: m.id, ReceiptHandle: m.receipt, Body: m.body, Attributes: { ApproximateReceiveCount: String(m.receives), SentTimestamp: "1764590400000" } };
  }

  private receive(input: ReceiveMessageCommandInput) {
    const max = input.MaxNumberOfMessages ?? 1;
    if (max > 10) throw Object.assign(new Error("Value for parameter MaxNumberOfMessages is invalid."), { name: "InvalidParameterValue", $metadata: { httpStatusCode: 400 } });
    const visible = this.messages.filter((m) => m.visibleAt <= this.now()).slice(0, Math.min(max, this.perReceive));
    for (const m of visible) m.visibleAt = this.now() + (input.VisibilityTimeout ?? 30) * 1000;
    const handed = visible.map((m) => this.hand(m));
    return handed.length > 0 ? { Messages: handed } : {};
  }

  visible(): string[] {
    return this.messages.filter((m) => m.visibleAt <= this.now()).map((m) => m.id);
  }
}

/** What Lambda's on-failure destination stores for an S3 event the trigger failed 3 times. */
export function deadLetter(key: string, error = "1 of 1 S3 record(s) failed: #0 s3://b/k: start job was not submitted: TooManyRequestsException") {
  return JSON.stringify({
    version: "1.0",
    timestamp: "2026-11-30T09:00:00.000Z",
    requestContext: { requestId: "r-1", functionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${FUNCTION}:$LATEST`, condition: "RetriesExhausted", approximateInvokeCount: 3 },
    requestPayload: { Records: [{ eventName: "ObjectCreated:Put", s3: { bucket: { name: BUCKET }, object: { key, size: 10, versionId: `v-${key.length}`, sequencer: "0A1B" } } }] },
    responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
    responsePayload: { errorType: "TriggerRecordsFailedError", errorMessage: error },
  });
}

/**
 * What the trigger's queue (`trigger.delivery: queue`) moves here after a message's last receive failed: the
 * message as S3 sent it, its body one S3 event notification (SQS moves a message unchanged to the dead-letter
 * queue: SQS developer guide, "Using dead-letter queues in Amazon SQS").
 */
export function queueDeadLetter(key: string) {
  return JSON.stringify({
    Records: [
      {
        eventVersion: "2.1",
        eventSource: "aws:s3",
        awsRegion: "eu-west-1",
        eventTime: "2026-11-30T09:00:00.000Z",
        eventName: "ObjectCreated:Put",
        s3: { s3SchemaVersion: "1.0", configurationId: "trigger", bucket: { name: BUCKET, arn: `arn:aws:s3:::${BUCKET}` }, object: { key, size: 10, versionId: `v-${key.length}`, sequencer: "0A1B" } },
      },
    ],
  });
}

/** A response payload as the SDK gives it: bytes that also read back as text (Uint8ArrayBlobAdapter). */
export const encode = (s: string) => Object.assign(new TextEncoder().encode(s), { transformToString: () => s });
