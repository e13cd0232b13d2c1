/**
 * Replaying the trigger's dead-letter queue. With `trigger.delivery: async` each message is what Lambda's
 * on-failure destination stored for an S3 event the trigger failed three times (Lambda developer guide,
 * "Capturing records of asynchronous invocations"): `requestPayload` is the original event, `responsePayload`
 * the error. With `queue`, each is a message of the trigger's queue that its redrive policy moved here after its
 * last receive failed: the body as S3 sent it, one S3 event, the error only in the trigger's logs (SQS moves a
 * message unchanged: SQS developer guide, "Using dead-letter queues in Amazon SQS"). The trigger reads both
 * (functions/objectEvents.ts unwraps `requestPayload` itself), so a message body is invoked as is.
 * A message is deleted only after its replay returned without a function error; anything else keeps it.
 *
 * SQS facts (SQS developer guide, "Visibility timeout", "Short and long polling", "At-least-once
 * delivery"): a received message is hidden for the visibility timeout, then is received again; a
 * standard queue may deliver a message more than once (same MessageId, new receipt handle); with long
 * polling (WaitTimeSeconds > 0) an empty answer means no message is visible. So the loop hides what it
 * received for the whole redrive (messages it could not replay included), recognises repeats by
 * MessageId (a copy of a replayed message is deleted, never replayed again), stops when a receive brings
 * nothing, and then makes the messages it kept visible again.
 *
 * A receipt handle stops working once its message's visibility timeout ran out ("Value … for parameter
 * ReceiptHandle is invalid. Reason: The receipt handle has expired.", InvalidParameterValue; aws-sdk-java
 * issue #1628, elastic/beats #30675), and every message of one receive shares one timeout. A replay may
 * take the trigger's whole 60 s timeout, so ten messages received together would outlive their 120 s while
 * waiting their turn. A replay therefore receives one message at a time: its timeout starts right before
 * its own Invoke and covers it and the delete, no message waits in hand, and it costs one ReceiveMessage
 * per message instead of a ChangeMessageVisibility for every waiting message before every Invoke (a dry
 * run invokes nothing and still reads 10 at a time). An SQS call about one message that fails anyway (a
 * replay slower than the timeout, a handle SQS refuses) is reported for that message and the loop goes on.
 */
import { InvokeCommand, type InvokeCommandOutput } from "@aws-sdk/client-lambda";
import { ChangeMessageVisibilityCommand, DeleteMessageCommand, type Message, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { parseTriggerEvent, UnsupportedEventError } from "../../functions/objectEvents";
import { TRIGGER_TIMEOUT_SECONDS } from "../../contract";
import type { AwsClients } from "../app/context";
import { describeAwsError } from "../app/errors";

/** How long a received message stays hidden while it is replayed: twice the trigger's timeout (60 s). */
export const REDRIVE_VISIBILITY_SECONDS = 2 * TRIGGER_TIMEOUT_SECONDS;

/** How long `--dry-run` hides each message it reads (made visible again when the dry run ends). */
export const DRY_RUN_VISIBILITY_SECONDS = 30;

/** SQS returns at most 10 messages per ReceiveMessage (SQS API reference, `MaxNumberOfMessages`): what a dry run asks for. */
export const RECEIVE_BATCH = 10;

/**
 * Receives in a row that bring only copies of messages already kept, after which the loop stops anyway
 * (each such receive hides what it brought, so an empty one normally comes first).
 */
export const IDLE_RECEIVES_MAX = 10;

/** An object version a dead-lettered S3 event was about. */
export interface DeadObject {
  bucket: string;
  key: string;
  versionId?: string;
}

/** A dead-letter message, read. */
export interface DeadLetter {
  messageId: string;
  receiptHandle: string;
  body: string;
  /** SQS's `ApproximateReceiveCount`: how often it has been received, this time included. */
  receiveCount?: number;
  objects: DeadObject[];
  /** The trigger's error when it failed, `errorType: errorMessage`. */
  error?: string;
  /** Why the body cannot be replayed (not JSON). */
  malformed?: string;
  /**
   * Who dead-lettered it: `invocation`, Lambda's on-failure destination (an invocation record around the event,
   * with its error); `queue`, the trigger's queue after the message's last receive (the event as S3 sent it).
   */
  origin: "invocation" | "queue";
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const text = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/**
 * The object versions of the event a message holds, read by the trigger's own parser
 * (functions/objectEvents.ts: notifications, EventBridge events, and the destination record around
 * either), so redrive describes a message exactly as the replay will see it.
 */
function objectsOf(event: unknown): DeadObject[] {
  try {
    return parseTriggerEvent(event).created.map(({ bucket, key, versionId }) => ({ bucket, key, ...(versionId ? { versionId } : {}) }));
  } catch (error) {
    if (error instanceof UnsupportedEventError) return [];
    throw error;
  }
}

/** `errorType: errorMessage` of a Lambda error payload. */
function errorOf(payload: unknown): string | undefined {
  if (!isObject(payload)) return text(payload);
  const type = text(payload.errorType);
  const message = text(payload.errorMessage);
  return message ? (type ? `${type}: ${message}` : message) : type;
}

/** Reads a message: the objects it is about and the error it failed with, or why it is malformed. */
export function readDeadLetter(message: Message): DeadLetter {
  const body = message.Body ?? "";
  const count = Number(message.Attributes?.ApproximateReceiveCount);
  const base = { messageId: message.MessageId ?? "", receiptHandle: message.ReceiptHandle ?? "", body, ...(Number.isSafeInteger(count) ? { receiveCount: count } : {}) };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    return { ...base, origin: "queue", objects: [], malformed: `the body is not JSON (${(error as Error).message})` };
  }
  if (!isObject(parsed)) return { ...base, origin: "queue", objects: [], malformed: "the body is not a JSON object" };
  // The invocation record's shape, as the trigger's parser tells it apart (functions/objectEvents.ts).
  const origin = isObject(parsed.requestContext) && isObject(parsed.requestPayload) ? "invocation" : "queue";
  const error = origin === "invocation" ? errorOf(parsed.responsePayload) : undefined;
  return { ...base, origin, objects: objectsOf(parsed), ...(error ? { error } : {}) };
}

/** What became of one message. */
export interface RedriveOutcome {
  message: DeadLetter;
  /** `replayed`: invoked without error and deleted; `failed`: kept; `malformed`: kept, not invoked; `dry-run`: only read. */
  result: "replayed" | "failed" | "malformed" | "dry-run";
  /** The replay's error, or what went wrong after it. */
  detail?: string;
}

/** What {@link redrive} needs. */
export interface RedriveDeps {
  aws: Pick<AwsClients, "sqs" | "lambda">;
  queueUrl: string;
  functionName: string;
  dryRun: boolean;
  /** Messages to handle at most. */
  max: number;
  signal: AbortSignal;
  /** Called once per message as soon as it is handled (for output as it happens). */
  onOutcome: (outcome: RedriveOutcome) => void;
  /** An SQS call about a message already reported failed in a way worth saying (one line). */
  onWarning?: (text: string) => void;
}

/** The SQS error for a receipt handle whose visibility timeout ran out, or that a later receive replaced. */
export function isStaleReceipt(error: unknown): boolean {
  const e = error as { name?: string; message?: string } | undefined;
  return e?.name === "ReceiptHandleIsInvalid" || e?.name === "MessageNotInflight" || (e?.name === "InvalidParameterValue" && /receipt ?handle/i.test(e.message ?? ""));
}

const oneLine = (error: unknown, what: string) => describeAwsError(error, what)?.message ?? String((error as Error)?.message ?? error);

/** The outcome of one replay: none when it succeeded, else why it did not. */
async function replay(deps: RedriveDeps, message: DeadLetter): Promise<string | undefined> {
  let out: InvokeCommandOutput;
  try {
    out = await deps.aws.lambda().send(
      new InvokeCommand({ FunctionName: deps.functionName, InvocationType: "RequestResponse", Payload: new TextEncoder().encode(message.body) }),
    );
  } catch (error) {
    return oneLine(error, `Lambda Invoke ${deps.functionName}`);
  }
  if (out.StatusCode === 200 && !out.FunctionError) return undefined;
  let payload: unknown;
  try {
    payload = out.Payload ? JSON.parse(new TextDecoder().decode(out.Payload)) : undefined;
  } catch {
    payload = undefined;
  }
  return `${out.FunctionError ? `function error (${out.FunctionError})` : `status ${out.StatusCode}`}: ${errorOf(payload) ?? "no error message"}`;
}

/**
 * Receives and handles dead-letter messages until a receive brings nothing or `max` messages were
 * handled. Every message kept (failed, malformed, or read by a dry run) is made visible again at the end.
 */
export async function redrive(deps: RedriveDeps): Promise<RedriveOutcome[]> {
  const sqs = deps.aws.sqs();
  const hold = deps.dryRun ? DRY_RUN_VISIBILITY_SECONDS : REDRIVE_VISIBILITY_SECONDS;
  const outcomes: RedriveOutcome[] = [];
  /** By MessageId: the outcome, and every receipt handle it came with (copies of one message each have their own). */
  const seen = new Map<string, { outcome: RedriveOutcome; receipts: string[] }>();
  const visibility = (receiptHandle: string, seconds: number) =>
    sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: deps.queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: seconds }));
  const remove = (receiptHandle: string) => sqs.send(new DeleteMessageCommand({ QueueUrl: deps.queueUrl, ReceiptHandle: receiptHandle }));
  /** Runs an SQS call about message `id` (`whose`), saying why it failed unless the handle only expired and `expiredIsFine`. */
  const aside = async (call: () => Promise<unknown>, what: string, whose: string, expiredIsFine: boolean) => {
    try {
      await call();
    } catch (error) {
      if (!(expiredIsFine && isStaleReceipt(error))) deps.onWarning?.(`message ${whose}: ${oneLine(error, `SQS ${what}`)}`);
    }
  };

  for (let idle = 0; outcomes.length < deps.max && !deps.signal.aborted && idle < IDLE_RECEIVES_MAX; ) {
    const answer = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: deps.queueUrl,
        MaxNumberOfMessages: deps.dryRun ? Math.min(RECEIVE_BATCH, deps.max - outcomes.length) : 1,
        WaitTimeSeconds: 1,
        VisibilityTimeout: hold,
        MessageSystemAttributeNames: ["ApproximateReceiveCount", "SentTimestamp"],
      }),
    );
    const messages = answer.Messages ?? [];
    if (messages.length === 0) break;
    // Progress: a message handled, or a copy of a replayed one deleted.
    let progress = 0;
    for (const raw of messages) {
      const message = readDeadLetter(raw);
      const earlier = seen.get(message.messageId);
      if (earlier) {
        // A repeat (at-least-once delivery, or back after its visibility timeout): never replayed twice.
        if (earlier.outcome.result === "replayed") {
          await aside(() => remove(message.receiptHandle), "DeleteMessage", `${message.messageId} (a copy of one replayed)`, false);
          progress++;
        } else {
          // The receive hid it for `hold` already; kept with the others to be made visible at the end.
          earlier.receipts.push(message.receiptHandle);
        }
        continue;
      }
      if (outcomes.length >= deps.max || deps.signal.aborted) {
        await aside(() => visibility(message.receiptHandle, 0), "ChangeMessageVisibility", message.messageId, true);
        continue;
      }
      progress++;
      const outcome = await handle(deps, message, remove);
      seen.set(message.messageId, { outcome, receipts: [message.receiptHandle] });
      outcomes.push(outcome);
      deps.onOutcome(outcome);
    }
    idle = progress === 0 ? idle + 1 : 0;
  }
  // A handle that expired meanwhile needs nothing: its message is visible again already.
  for (const { outcome, receipts } of seen.values()) {
    if (outcome.result !== "replayed") for (const receipt of receipts) await aside(() => visibility(receipt, 0), "ChangeMessageVisibility", outcome.message.messageId, true);
  }
  return outcomes;
}

async function handle(deps: RedriveDeps, message: DeadLetter, remove: (receiptHandle: string) => Promise<unknown>): Promise<RedriveOutcome> {
  if (message.malformed) return { message, result: "malformed", detail: message.malformed };
  if (deps.dryRun) return { message, result: "dry-run" };
  const failure = await replay(deps, message);
  if (failure !== undefined) return { message, result: "failed", detail: failure };
  try {
    await remove(message.receiptHandle);
  } catch (error) {
    const why = isStaleReceipt(error)
      ? `the replay outlasted its ${REDRIVE_VISIBILITY_SECONDS} s visibility timeout (SQS DeleteMessage: ${(error as Error).name}, the receipt handle has expired)`
      : oneLine(error, "SQS DeleteMessage");
    return { message, result: "failed", detail: `replayed, but not deleted: ${why}; a later redrive replays it again, which submits nothing twice` };
  }
  return { message, result: "replayed" };
}
