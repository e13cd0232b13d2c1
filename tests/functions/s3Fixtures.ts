/** S3 and EventBridge events in the shapes AWS delivers them (keys URL-encoded in both), and S3's events in an SQS batch. */
import { createHash } from "node:crypto";
import type { S3Event, S3EventRecord, S3ObjectCreatedNotificationEvent, SQSEvent, SQSRecord } from "aws-lambda";

export const BUCKET = "input-bucket";

export interface RecordOptions {
  bucket?: string;
  eventName?: string;
  size?: number;
  eTag?: string;
  /** Omitted: unversioned bucket. */
  versionId?: string;
  sequencer?: string;
}

/** One notification record; `encodedKey` is as S3 sends it (`+` for space, `%2B` for plus). */
export function record(encodedKey: string, o: RecordOptions = {}): S3EventRecord {
  const bucket = o.bucket ?? BUCKET;
  return {
    eventVersion: "2.1",
    eventSource: "aws:s3",
    awsRegion: "eu-west-1",
    eventTime: "2026-11-28T10:00:00.000Z",
    eventName: o.eventName ?? "ObjectCreated:Put",
    userIdentity: { principalId: "AWS:AIDAEXAMPLE" },
    requestParameters: { sourceIPAddress: "203.0.113.7" },
    responseElements: { "x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S" },
    s3: {
      s3SchemaVersion: "1.0",
      configurationId: "trigger",
      bucket: { name: bucket, ownerIdentity: { principalId: "A3NL1KOZZKExample" }, arn: `arn:aws:s3:::${bucket}` },
      object: {
        key: encodedKey,
        size: o.size ?? 1024,
        eTag: o.eTag ?? "d41d8cd98f00b204e9800998ecf8427e",
        ...(o.versionId !== undefined ? { versionId: o.versionId } : {}),
        sequencer: o.sequencer ?? "0055AED6DCD90281E5",
      },
    },
  };
}

export const s3Event = (...records: S3EventRecord[]): S3Event => ({ Records: records });

/** What S3 sends once when a notification configuration is saved. */
export const testEvent = {
  Service: "Amazon S3",
  Event: "s3:TestEvent",
  Time: "2026-11-28T10:00:00.000Z",
  Bucket: BUCKET,
  RequestId: "5582815E1AEA5ADF",
  HostId: "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
};

/**
 * The EventBridge form; `encodedKey` is URL-encoded like a notification's (Powertools for AWS Lambda
 * (Python) `S3EventBridgeNotificationObject.key` decodes it with `unquote_plus`).
 */
export function eventBridge(
  encodedKey: string,
  o: { detailType?: string; size?: number; versionId?: string; sequencer?: string; etag?: string } = {},
): S3ObjectCreatedNotificationEvent {
  return {
    version: "0",
    id: "17793124-05d4-b198-2fde-7ededc63b103",
    "detail-type": (o.detailType ?? "Object Created") as "Object Created",
    source: "aws.s3",
    account: "123456789012",
    time: "2026-11-28T10:00:00Z",
    region: "eu-west-1",
    resources: [`arn:aws:s3:::${BUCKET}`],
    detail: {
      version: "0",
      bucket: { name: BUCKET },
      object: {
        key: encodedKey,
        size: o.size ?? 5,
        etag: o.etag ?? "b1946ac92492d2347c6235b4d2611184",
        ...(o.versionId !== undefined ? { "version-id": o.versionId } : {}),
        sequencer: o.sequencer ?? "00617F08299329D189",
      } as S3ObjectCreatedNotificationEvent["detail"]["object"],
      "request-id": "N4N7GDK58NMKJ12R",
      requester: "123456789012",
      "source-ip-address": "1.2.3.4",
      reason: "PutObject",
    },
  };
}

/** The queue S3 sends to with `trigger.delivery: queue`. */
export const SOURCE_QUEUE_ARN = "arn:aws:sqs:eu-west-1:123456789012:batch-pipeline-test-1a2b3c-trigger-queue-0f1e2d3";

/**
 * An event source mapping's SQS batch (Lambda developer guide, "Using Lambda with Amazon SQS", example standard
 * queue message event): one record per message, message `i` with id `m-<i>` unless given, each body as S3 sent
 * it to the queue (an object is sent as its JSON; a string as is).
 */
export function sqsEvent(...messages: (unknown | { messageId: string; body: unknown })[]): SQSEvent {
  return {
    Records: messages.map((m, i): SQSRecord => {
      const given = typeof m === "object" && m !== null && "messageId" in m && "body" in m ? (m as { messageId: string; body: unknown }) : undefined;
      const content = given ? given.body : m;
      const body = typeof content === "string" ? content : JSON.stringify(content);
      return {
        messageId: given?.messageId ?? `m-${i}`,
        receiptHandle: `AQEB${i}receipt-handle`,
        body,
        attributes: { ApproximateReceiveCount: "1", SentTimestamp: "1796119200000", SenderId: "AIDAIENQZJOLO23YVJ4VO", ApproximateFirstReceiveTimestamp: "1796119200100" },
        messageAttributes: {},
        md5OfBody: createHash("md5").update(body).digest("hex"),
        eventSource: "aws:sqs",
        eventSourceARN: SOURCE_QUEUE_ARN,
        awsRegion: "eu-west-1",
      };
    }),
  };
}
