/**
 * Turns what invokes the trigger (an S3 notification, its `s3:TestEvent`, or the EventBridge form of
 * "Object Created") into the object versions to start runs for.
 *
 * Runs inside the serialized inline Lambda: no value imports of npm packages or Node builtins here.
 */
import type { S3EventRecord, S3ObjectCreatedNotificationEvent } from "aws-lambda";
import type { InputObject } from "../contract";
import { isPlainObject } from "../contract/codec";
import { type KeyRejection, keyRejection, type TriggerKeyFilter } from "../contract/trigger";
import { keepErrorFields } from "../contract/errors";
import { errorParts } from "../contract/errors";

/** An object version a notification says was created. */
export interface CreatedObject extends InputObject {
  /**
   * S3's per-key ordering token. Identifies one write of an unversioned object, so it stands in for the
   * version id in the run id. Undefined only if the event lacks it (S3 always sends it for creations).
   */
  sequencer?: string;
  /** Position of the record in the event, for error messages and logs. */
  index: number;
  /** What S3 called the event (`ObjectCreated:Put`, `Object Created`), for logs. */
  eventName: string;
}

/**
 * Why a record was ignored: `test-event` (S3's `s3:TestEvent`), `not-object-created` (deletions,
 * restores, ...), `other-bucket` (not the input bucket), `outside-prefix` (a key not under
 * `trigger.prefix`), `outside-suffix` (a key not ending with `trigger.suffix`), `ignored-prefix` (under
 * the pipeline's output prefix) or `folder-marker` (a zero-byte object whose key ends in `/`, what the S3
 * console's "Create folder" writes). S3's notification never sends the middle three: such a record was
 * forged or mis-routed by whoever invoked the function.
 */
export type IgnoreReason = "test-event" | "not-object-created" | "other-bucket" | KeyRejection;

/** Reasons S3's own notification never gives: whoever sent the record is not the bucket's notification. */
export const FOREIGN_RECORD_REASONS: readonly IgnoreReason[] = ["other-bucket", "outside-prefix", "outside-suffix"];

/** A record the trigger deliberately does nothing with. */
export interface IgnoredRecord {
  index: number;
  reason: IgnoreReason;
  eventName?: string;
  bucket?: string;
  key?: string;
}

/** A record that should have been an object creation but cannot be read: it fails the invocation. */
export interface InvalidRecord {
  index: number;
  message: string;
}

export interface ParsedTriggerEvent {
  created: CreatedObject[];
  ignored: IgnoredRecord[];
  invalid: InvalidRecord[];
}

export interface ParseOptions {
  /**
   * Records of another bucket start no run (they are ignored, not failed: retrying cannot change them).
   * S3's own notification is of the input bucket only; anyone allowed to invoke the function, or a mis-set
   * notification, could send others.
   * @default every bucket
   */
  bucket?: string;
  /**
   * Which keys start a run (contract/trigger.ts `keyRejection`): never one under `outputPrefix`, where the
   * pipeline writes, whatever the notification filter says, so a mis-set filter cannot make the pipeline
   * trigger itself; and only keys under `prefix` ending with `suffix`, as the notification filter says.
   * @default every key
   */
  filter?: TriggerKeyFilter;
}

/** The event is none of the shapes the trigger knows: retrying cannot help, so the event belongs in the DLQ. */
export class UnsupportedEventError extends Error {
  constructor(message: string) {
    super(message);
    keepErrorFields(this, "UnsupportedEventError", message);
  }
}

/**
 * S3 URL-encodes keys in its events the way HTML forms do: a space arrives as `+`, a real `+` as `%2B`.
 * True of notifications and of the EventBridge form alike (see `fromEventBridge`). Throws `URIError` on
 * a malformed escape, which S3 never produces.
 */
export function decodeS3Key(encoded: string): string {
  return decodeURIComponent(encoded.replace(/\+/g, " "));
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const nonEmpty = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/**
 * Parses any event the trigger can receive. Never throws for a single bad record (it lands in
 * `invalid` so the others still run); throws {@link UnsupportedEventError} only when the whole event is
 * unrecognisable.
 */
export function parseTriggerEvent(event: unknown, options: ParseOptions = {}): ParsedTriggerEvent {
  const out: ParsedTriggerEvent = { created: [], ignored: [], invalid: [] };
  if (!isPlainObject(event)) throw new UnsupportedEventError(`expected an S3 or EventBridge event object, got ${event === null ? "null" : typeof event}`);
  // A message from the on-failure destination (the dead-letter queue) wraps the original event in an
  // invocation record; re-invoking the function with it redrives that event.
  if (isPlainObject(event.requestContext) && isPlainObject(event.requestPayload)) {
    return parseTriggerEvent(event.requestPayload, options);
  }

  if (Array.isArray(event.Records)) {
    event.Records.forEach((record: unknown, index) => classify(out, index, () => fromNotificationRecord(record, index), options));
    return out;
  }
  // Sent once when a notification configuration is saved; it has no Records.
  if (event.Event === "s3:TestEvent") {
    out.ignored.push({ index: 0, reason: "test-event", eventName: "s3:TestEvent", bucket: str(event.Bucket) });
    return out;
  }
  if (event.source === "aws.s3" && typeof event["detail-type"] === "string") {
    classify(out, 0, () => fromEventBridge(event as unknown as S3ObjectCreatedNotificationEvent), options);
    return out;
  }
  throw new UnsupportedEventError(
    `expected an S3 notification (Records), an s3:TestEvent or an EventBridge aws.s3 event; got keys ${JSON.stringify(Object.keys(event).slice(0, 10))}`,
  );
}

type RecordOutcome = CreatedObject | IgnoredRecord;

function classify(out: ParsedTriggerEvent, index: number, read: () => RecordOutcome, options: ParseOptions): void {
  let outcome: RecordOutcome;
  try {
    outcome = read();
  } catch (err) {
    out.invalid.push({ index, message: errorParts(err).message });
    return;
  }
  const ignore = (reason: IgnoreReason) => out.ignored.push({ index, reason, eventName: outcome.eventName, bucket: outcome.bucket, key: outcome.key });
  if ("reason" in outcome) {
    out.ignored.push(outcome);
  } else if (options.bucket !== undefined && outcome.bucket !== options.bucket) {
    ignore("other-bucket");
  } else {
    const rejected = keyRejection(outcome.key, outcome.sizeBytes, options.filter ?? { prefix: "", suffix: "" });
    if (rejected) ignore(rejected);
    else out.created.push(outcome);
  }
}

function fromNotificationRecord(raw: unknown, index: number): RecordOutcome {
  if (!isPlainObject(raw)) throw new Error(`record ${index} is not an object`);
  const record = raw as unknown as Partial<S3EventRecord>;
  const eventName = str(record.eventName) ?? "";
  const bucket = nonEmpty(record.s3?.bucket?.name);
  const encodedKey = str(record.s3?.object?.key);
  // S3 writes `ObjectCreated:Put`; some S3-compatible stores prefix it with `s3:`.
  if (!eventName.replace(/^s3:/, "").startsWith("ObjectCreated:")) {
    return { index, reason: "not-object-created", eventName, bucket, key: encodedKey === undefined ? undefined : safeDecode(encodedKey) };
  }
  const object = record.s3!.object!;
  if (!bucket) throw new Error(`record ${index} (${eventName}) has no s3.bucket.name`);
  if (encodedKey === undefined || encodedKey === "") throw new Error(`record ${index} (${eventName}) has no s3.object.key`);
  let key: string;
  try {
    key = decodeS3Key(encodedKey);
  } catch {
    throw new Error(`record ${index} (${eventName}) has a malformed URL-encoded key ${JSON.stringify(encodedKey)}`);
  }
  return created(index, eventName, bucket, key, object.size, nonEmpty(object.versionId), nonEmpty(object.eTag), nonEmpty(object.sequencer));
}

function fromEventBridge(event: S3ObjectCreatedNotificationEvent): RecordOutcome {
  const eventName = event["detail-type"];
  const detail: Partial<S3ObjectCreatedNotificationEvent["detail"]> = isPlainObject(event.detail) ? event.detail : {};
  const bucket = nonEmpty(detail.bucket?.name);
  // EventBridge carries the key URL-encoded like notifications do (a space as `+`, `+` as `%2B`):
  // Powertools for AWS Lambda (Python), aws_lambda_powertools/utilities/data_classes/s3_event.py,
  // class S3EventBridgeNotificationObject, property `key` returns `unquote_plus(self["key"])`.
  const encodedKey = str(detail.object?.key);
  if (eventName !== "Object Created") {
    return { index: 0, reason: "not-object-created", eventName, bucket, key: encodedKey === undefined ? undefined : safeDecode(encodedKey) };
  }
  if (!bucket) throw new Error(`EventBridge ${eventName} event has no detail.bucket.name`);
  if (!encodedKey) throw new Error(`EventBridge ${eventName} event has no detail.object.key`);
  let key: string;
  try {
    key = decodeS3Key(encodedKey);
  } catch {
    throw new Error(`EventBridge ${eventName} event has a malformed URL-encoded key ${JSON.stringify(encodedKey)}`);
  }
  const object = detail.object!;
  return created(0, eventName, bucket, key, object.size, nonEmpty(object["version-id"]), nonEmpty(object.etag), nonEmpty(object.sequencer));
}

function created(
  index: number,
  eventName: string,
  bucket: string,
  key: string,
  size: unknown,
  versionId: string | undefined,
  eTag: string | undefined,
  sequencer: string | undefined,
): CreatedObject {
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
    throw new Error(`record ${index} (${eventName}) for s3://${bucket}/${key} has no valid object size (${JSON.stringify(size)})`);
  }
  if (!versionId && !sequencer) {
    // Without either the trigger cannot tell two writes of the key apart, so it cannot be idempotent.
    throw new Error(`record ${index} (${eventName}) for s3://${bucket}/${key} has neither a version id nor a sequencer`);
  }
  return {
    index,
    eventName,
    bucket,
    key,
    sizeBytes: size,
    ...(versionId ? { versionId } : {}),
    ...(eTag ? { eTag } : {}),
    ...(sequencer ? { sequencer } : {}),
  };
}

function safeDecode(encoded: string): string {
  try {
    return decodeS3Key(encoded);
  } catch {
    return encoded;
  }
}
