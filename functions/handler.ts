/**
 * The S3 trigger's handler: parse the event, then per object version (idempotently) submit one start job.
 * Clients and the idempotency store are injected (functions/wiring.ts builds them in the Lambda).
 *
 * Serialized BY VALUE into the inline Pulumi Lambda (built by infra/triggerHandler.ts): no value imports of npm
 * packages or Node builtins here, only `import type`.
 */
import type { Batch, SubmitJobCommandInput, SubmitJobCommandOutput } from "@aws-sdk/client-batch";
import type { Context } from "aws-lambda";
import type { Logger } from "../contract";
import { keepErrorFields } from "../contract/errors";
import { errorParts, errorSummary, toError } from "./errors";
import type { RecordIdempotency, StoredStartJob } from "./idempotency";
import { type CreatedObject, FOREIGN_RECORD_REASONS, type IgnoredRecord, type IgnoreReason, parseTriggerEvent } from "./objectEvents";
import type { TriggerSettings } from "./settings";
import { buildStartJobRequest } from "./startRequest";
import { computeRunId } from "../contract/run";

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

/** The Lambda handler: `(event, context) => result`; throws when anything failed, so Lambda retries. */
export type TriggerHandler = (event: unknown, context?: Context) => Promise<TriggerResult>;

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

  const submitOnce = deps.idempotency.wrap(
    async (runId: string, request: SubmitJobCommandInput, probe: { submitted: boolean }): Promise<StoredStartJob> => {
      const out = await batch.submitJob(request);
      probe.submitted = true;
      if (!out.jobId) throw new Error(`SubmitJob for ${request.jobName} returned no jobId`);
      // Only JSON without undefined: the idempotency store marshals this into DynamoDB.
      return { runId, jobId: out.jobId, jobName: out.jobName ?? request.jobName!, ...(out.jobArn ? { jobArn: out.jobArn } : {}) };
    },
  );

  async function startRun(object: CreatedObject, runId: string): Promise<StartJobOutcome> {
    const request = buildStartJobRequest(object, runId, target);
    const probe = { submitted: false };
    let stored: StoredStartJob;
    try {
      stored = await submitOnce(runId, request, probe);
    } catch (cause) {
      throw new StartJobSubmitError(`start job ${request.jobName} was not submitted: ${errorSummary(cause)}`, { cause });
    }
    return {
      ...stored,
      status: probe.submitted ? "submitted" : "duplicate",
      bucket: object.bucket,
      key: object.key,
      ...(object.versionId ? { versionId: object.versionId } : {}),
    };
  }

  return async function handler(event: unknown, context?: Context): Promise<TriggerResult> {
    if (context) deps.idempotency.registerLambdaContext?.(context);
    const parsed = parseTriggerEvent(event, { bucket, filter });
    for (const ignored of parsed.ignored) {
      // S3's notification never sends these: a warning, since someone invoked the function with a forged or mis-routed event.
      if (FOREIGN_RECORD_REASONS.includes(ignored.reason)) log.warn("S3 record ignored: not an object of the trigger's bucket, prefix and suffix", { ...ignored });
      else log.info("S3 record ignored", { ...ignored });
    }
    // One line per invocation that ignored anything, so Logs Insights can count by reason (a burst of
    // "Create folder" clicks, a mis-set filter) without aggregating the per-record lines.
    if (parsed.ignored.length > 0) log.info("S3 records ignored, by reason", { count: parsed.ignored.length, byReason: countByReason(parsed.ignored) });

    const failures: RecordFailure[] = parsed.invalid.map((r) => ({ index: r.index, error: new Error(r.message) }));
    const runs = await Promise.all(parsed.created.map(async (object) => ({ object, runId: await computeRunId(object) })));
    // One event can repeat a record; concurrent submits of one run id would collide in the store.
    const seen = new Set<string>();
    const unique = runs.filter(({ object, runId }) => {
      if (seen.has(runId)) {
        log.info("S3 record repeats an earlier record of the event", { index: object.index, runId });
        return false;
      }
      seen.add(runId);
      return true;
    });

    const settled = await Promise.allSettled(unique.map(({ object, runId }) => startRun(object, runId)));
    const jobs: StartJobOutcome[] = [];
    settled.forEach((result, i) => {
      const { object, runId } = unique[i]!;
      const where = { index: object.index, bucket: object.bucket, key: object.key, versionId: object.versionId, runId };
      if (result.status === "fulfilled") {
        jobs.push(result.value);
        const { status, jobId, jobName } = result.value;
        log.info(status === "submitted" ? "start job submitted" : "start job already submitted for this object version", { ...where, jobId, jobName, sizeBytes: object.sizeBytes });
      } else {
        failures.push({ ...where, error: toError(result.reason) });
      }
    });

    if (failures.length > 0) {
      const total = parsed.created.length + parsed.invalid.length;
      const error = new TriggerRecordsFailedError(failures.sort((a, b) => a.index - b.index), total);
      log.error("S3 records failed; the event will be retried", {
        failures: error.failures.map(({ error: e, ...f }) => ({ ...f, error: errorSummary(e) })),
        submitted: jobs.length,
      });
      throw error;
    }
    return { jobs, ignored: parsed.ignored };
  };
}
