/**
 * The S3 trigger's handler: parse the event, then per object version (idempotently) submit one start job.
 * S3 invokes it with a notification (`trigger.delivery: async`: a failure throws, so Lambda retries the event),
 * or an event source mapping with an SQS batch of them (`queue`: it answers which messages failed, a partial
 * batch response, so only those are received again). Clients and the idempotency store are injected
 * (functions/wiring.ts builds them in the Lambda). The SQS batch is read here rather than in objectEvents.ts:
 * a module function costs the upload its own serialized wrapper.
 *
 * Serialized BY VALUE into the inline Pulumi Lambda (built by infra/triggerHandler.ts): no value imports of npm
 * packages or Node builtins here, only `import type`.
 */
import type { Batch, SubmitJobCommandInput, SubmitJobCommandOutput } from "@aws-sdk/client-batch";
import type { Context, SQSEvent, SQSRecord } from "aws-lambda";
import type { Logger } from "../contract";
import { errorParts, errorSummary, keepErrorFields, toError, toNativeError } from "../contract/errors";
import type { RecordIdempotency, StoredStartJob } from "./idempotency";
import { type CreatedObject, FOREIGN_RECORD_REASONS, type IgnoredRecord, type IgnoreReason, type ParsedTriggerEvent, parseTriggerEvent } from "./objectEvents";
import type { TriggerSettings } from "./settings";
import { buildStartJobRequest } from "./startRequest";
import { computeRunId, startJobName } from "../contract/run";
import { TRIGGER_TIMEOUT_SECONDS } from "../contract/delivery";
import type { InlineStarter } from "./inline";
import { isPlainObject } from "../contract/codec";

/** The one Batch call the trigger makes. An aggregated `Batch` client satisfies it. */
export interface StartJobSubmitter {
  submitJob(input: SubmitJobCommandInput): Promise<SubmitJobCommandOutput>;
}

/** Logs objects through `console`, which the Lambda runtime turns into JSON log records. */
export const consoleLogger: Logger = {
  info: (message, fields) => console.info({ message, ...fields }),
  warn: (message, fields) => console.warn({ message, ...fields }),
  error: (message, fields) => console.error({ message, ...fields }),
};

export interface TriggerDeps {
  /** Typically `new Batch({ ...SUBMIT_JOB_RETRY })` (functions/wiring.ts): retries of throttled calls happen in the client. */
  batch: StartJobSubmitter | Pick<Batch, "submitJob">;
  /**
   * Submits a run's DAG from the trigger itself (`orchestrator.mode` inline or auto, functions/inline.ts); a run
   * it leaves (`auto`, a large plan) gets a start job. @default none: every run gets a start job
   */
  inline?: InlineStarter;
  /** @default Date.now */
  now?: () => number;
  idempotency: RecordIdempotency;
  /** The start job's target, and which records start a run: required, so no wiring can leave the filter out and accept every bucket and key. */
  config: Pick<TriggerSettings, "target" | "bucket" | "filter">;
  /** @default {@link consoleLogger} */
  log?: Logger;
}

/** One object version's start job, submitted now or found in the idempotency store. */
export interface StartJobOutcome extends StoredStartJob {
  status: "submitted" | "duplicate";
  bucket: string;
  key: string;
  versionId?: string;
}

export interface TriggerResult {
  jobs: StartJobOutcome[];
  ignored: IgnoredRecord[];
}

/** Which record failed and why. */
export interface RecordFailure {
  /** Position in the event's `Records` (0 for EventBridge events). */
  index: number;
  bucket?: string;
  key?: string;
  versionId?: string;
  runId?: string;
  error: Error;
}

/** Submitting one object version's start job failed (the cause says how: Batch, DynamoDB, in progress). */
export class StartJobSubmitError extends Error {
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
    keepErrorFields(this, "StartJobSubmitError", message, options);
  }
}

/**
 * Some records of the event failed; the others were submitted. Thrown so Lambda retries the whole
 * event (then dead-letters it): the submitted records are then duplicates and submit nothing.
 */
export class TriggerRecordsFailedError extends AggregateError {
  readonly failures: RecordFailure[];
  constructor(failures: RecordFailure[], total: number) {
    const list = failures
      .map((f) => `#${f.index}${f.key !== undefined ? ` s3://${f.bucket}/${f.key}` : ""}${f.versionId ? ` (version ${f.versionId})` : ""}: ${errorParts(f.error).message}`)
      .join("; ");
    const message = `${failures.length} of ${total} S3 record(s) failed: ${list}`;
    super(
      failures.map((f) => f.error),
      message,
    );
    keepErrorFields(this, "TriggerRecordsFailedError", message);
    this.errors = failures.map((f) => f.error);
    this.failures = failures;
  }
}

/**
 * What an SQS event source mapping with `ReportBatchItemFailures` reads back: the messages that failed, by id
 * (Lambda developer guide, "Handling errors for an SQS event source in Lambda", partial batch responses).
 * Only these return to the queue; an empty list deletes the whole batch.
 */
export interface SqsBatchResult {
  batchItemFailures: { itemIdentifier: string }[];
}

/** The Lambda handler: `(event, context) => result`. */
export interface TriggerHandler {
  /** An SQS batch (`trigger.delivery: queue`): answers with the messages that failed, and throws for none of them. */
  (event: SQSEvent, context?: Context): Promise<SqsBatchResult>;
  /** An S3 notification, its EventBridge form or a dead-lettered invocation record: throws when anything failed, so Lambda retries the event. */
  (event: unknown, context?: Context): Promise<TriggerResult>;
}

/** How many records were ignored for each reason, e.g. `{ "folder-marker": 2, "test-event": 1 }`. */
export function countByReason(ignored: readonly IgnoredRecord[]): Partial<Record<IgnoreReason, number>> {
  const counts: Partial<Record<IgnoreReason, number>> = {};
  for (const { reason } of ignored) counts[reason] = (counts[reason] ?? 0) + 1;
  return counts;
}

/** Builds the handler around injected clients. The submit is wrapped for idempotency once, here. */
export function createTriggerHandler(deps: TriggerDeps): TriggerHandler {
  const log = deps.log ?? consoleLogger;
  const batch = deps.batch as StartJobSubmitter;
  const { target } = deps.config;
  const { bucket, filter } = deps.config;

  const now = deps.now ?? Date.now;

  // Claimed per run id (the first argument) for as long as this runs: a duplicate delivery gets the stored
  // result, a concurrent one fails and is retried, and a failure (nothing stored) lets the next attempt run it.
  const submitOnce = deps.idempotency.wrap(
    async (runId: string, object: CreatedObject, probe: { submitted: boolean; deadlineMs: number }): Promise<StoredStartJob> => {
      let inline: Awaited<ReturnType<InlineStarter>>;
      try {
        inline = deps.inline ? await deps.inline(object, runId, probe.deadlineMs) : undefined;
      } catch (error) {
        // The planner's and the submitter's errors are serialized classes, not `instanceof Error`: Powertools
        // would report them as an unknown error, losing why (contract/errors.ts toNativeError).
        throw toNativeError(error);
      }
      if (inline) {
        // `existing`: an earlier invocation submitted the whole DAG and its record was lost (expired, or it died
        // before storing it): nothing was submitted now.
        probe.submitted = inline.outcome === "submitted";
        return inline.stored;
      }
      const request = buildStartJobRequest(object, runId, target);
      const out = await batch.submitJob(request);
      probe.submitted = true;
      if (!out.jobId) throw new Error(`SubmitJob for ${request.jobName} returned no jobId`);
      // Only JSON without undefined: the idempotency store marshals this into DynamoDB.
      return { runId, jobId: out.jobId, jobName: out.jobName ?? request.jobName!, ...(out.jobArn ? { jobArn: out.jobArn } : {}) };
    },
  );

  async function startRun(object: CreatedObject, runId: string, deadlineMs: number): Promise<StartJobOutcome> {
    const probe = { submitted: false, deadlineMs };
    let stored: StoredStartJob;
    try {
      stored = await submitOnce(runId, object, probe);
    } catch (cause) {
      const what = deps.inline ? `run ${runId}` : `start job ${startJobName(object.key, runId)}`;
      throw new StartJobSubmitError(`${what} was not submitted: ${errorSummary(cause)}`, { cause });
    }
    return {
      ...stored,
      status: probe.submitted ? "submitted" : "duplicate",
      bucket: object.bucket,
      key: object.key,
      ...(object.versionId ? { versionId: object.versionId } : {}),
    };
  }

  /**
   * Starts the runs of one or more events (the one event invoked with, or each message of an SQS batch), each
   * run id once across them all; the failures are each event's own.
   */
  async function startRuns(events: readonly ParsedTriggerEvent[], deadlineMs: number): Promise<{ jobs: StartJobOutcome[]; ignored: IgnoredRecord[]; failures: RecordFailure[][] }> {
    const ignored = events.flatMap((e) => e.ignored);
    for (const record of ignored) {
      // S3's notification never sends these: a warning, since someone invoked the function with a forged or mis-routed event.
      if (FOREIGN_RECORD_REASONS.includes(record.reason)) log.warn("S3 record ignored: not an object of the trigger's bucket, prefix and suffix", { ...record });
      else log.info("S3 record ignored", { ...record });
    }
    // One line per invocation that ignored anything, so Logs Insights can count by reason (a burst of
    // "Create folder" clicks, a mis-set filter) without aggregating the per-record lines.
    if (ignored.length > 0) log.info("S3 records ignored, by reason", { count: ignored.length, byReason: countByReason(ignored) });

    const failures = events.map((e) => e.invalid.map((r): RecordFailure => ({ index: r.index, error: new Error(r.message) })));
    const runs = await Promise.all(events.flatMap((e, event) => e.created.map(async (object) => ({ event, object, runId: await computeRunId(object) }))));
    // Concurrent submits of one run id would collide in the store: a record that repeats an earlier one (in its
    // event, or in another message of the batch) shares that one's outcome, and fails its own event with it.
    const first = new Map<string, { event: number; start: Promise<StartJobOutcome> }>();
    const settled = await Promise.allSettled(
      runs.map(({ event, object, runId }) => {
        const earlier = first.get(runId);
        if (!earlier) {
          const start = startRun(object, runId, deadlineMs);
          first.set(runId, { event, start });
          return start;
        }
        log.info("S3 record repeats an earlier record of the event", { index: object.index, runId });
        return earlier.start.then(
          () => undefined,
          (error: unknown) => {
            if (earlier.event !== event) throw error;
          },
        );
      }),
    );
    const jobs: StartJobOutcome[] = [];
    settled.forEach((result, i) => {
      const { event, object, runId } = runs[i]!;
      const where = { index: object.index, bucket: object.bucket, key: object.key, versionId: object.versionId, runId };
      if (result.status === "rejected") failures[event]!.push({ ...where, error: toError(result.reason) });
      else if (result.value) {
        jobs.push(result.value);
        const { status, jobId, jobName, orchestrator, jobs: dagJobs } = result.value;
        const what = orchestrator === "inline" ? "run's DAG" : "start job";
        log.info(status === "submitted" ? `${what} submitted` : `${what} already submitted for this object version`, {
          ...where,
          jobId,
          jobName,
          sizeBytes: object.sizeBytes,
          ...(orchestrator ? { orchestrator, jobs: dagJobs } : {}),
        });
      }
    });
    return { jobs, ignored, failures: failures.map((f) => f.sort((a, b) => a.index - b.index)) };
  }

  const described = (failures: RecordFailure[]) => failures.map(({ error, ...f }) => ({ ...f, error: errorSummary(error) }));

  return async function handler(event: unknown, context?: Context): Promise<TriggerResult | SqsBatchResult> {
    if (context) deps.idempotency.registerLambdaContext?.(context);
    // The invocation's end: an inline submission stops in time to undo its part (functions/inline.ts).
    const deadlineMs = now() + (context ? context.getRemainingTimeInMillis() : TRIGGER_TIMEOUT_SECONDS * 1000);
    // An event source mapping's SQS batch (`trigger.delivery: queue`): records from `eventSource` `aws:sqs`, each
    // message's `body` one S3 event as JSON (Lambda developer guide, "Using Lambda with Amazon SQS").
    const messages: Partial<SQSRecord>[] = isPlainObject(event) && Array.isArray(event.Records) ? event.Records : [];
    if (messages.some((m) => m?.eventSource === "aws:sqs")) {
      // An `s3:TestEvent` body is ignored. A body that is no S3 event (not JSON, another shape) fails as it would
      // fail again: after maxReceiveCount receives the queue dead-letters it, where the alarm and
      // `batch-pipeline redrive` see it.
      const events = messages.map((m): ParsedTriggerEvent => {
        try {
          return parseTriggerEvent(JSON.parse(m.body!), { bucket, filter });
        } catch (error) {
          return { created: [], ignored: [], invalid: [{ index: 0, message: `the message body is no S3 event: ${errorSummary(error)}` }] };
        }
      });
      const { jobs, failures } = await startRuns(events, deadlineMs);
      const failed = messages.flatMap(({ messageId }, i) => (failures[i]!.length > 0 ? [{ messageId, failures: described(failures[i]!) }] : []));
      if (failed.length > 0) log.error("SQS messages failed; they will be received again", { messages: failed, submitted: jobs.length });
      // A partial batch response: only these return to the queue, the others are deleted. A message without an
      // id (no SQS record) makes Lambda fail the whole batch ("Handling errors for an SQS event source in Lambda").
      return { batchItemFailures: failed.map(({ messageId }) => ({ itemIdentifier: messageId! })) };
    }

    const parsed = parseTriggerEvent(event, { bucket, filter });
    const { jobs, ignored, failures } = await startRuns([parsed], deadlineMs);
    if (failures[0]!.length > 0) {
      const error = new TriggerRecordsFailedError(failures[0]!, parsed.created.length + parsed.invalid.length);
      log.error("S3 records failed; the event will be retried", { failures: described(error.failures), submitted: jobs.length });
      throw error;
    }
    return { jobs, ignored };
  } as TriggerHandler;
}
