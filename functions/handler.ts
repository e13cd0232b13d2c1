/**
 * The S3 trigger's handler: parse the event, then per object version (idempotently) submit one start job.
 *
 * This module is serialized BY VALUE into the inline Pulumi Lambda (`aws.lambda.CallbackFunction` with
 * `callbackFactory`), so it must not import npm packages or Node builtins as values: every SDK client and
 * Powertools piece is injected, and only `import type` reaches npm packages. The factory in infra/
 * `require()`s the packages and hands them to {@link buildTriggerHandlerFromEnv}.
 */
import type { Batch, BatchClientConfig, SubmitJobCommandInput, SubmitJobCommandOutput } from "@aws-sdk/client-batch";
import type { DynamoDBClient, DynamoDBClientConfig } from "@aws-sdk/client-dynamodb";
import type { IdempotencyConfig, makeIdempotent } from "@aws-lambda-powertools/idempotency";
import type { DynamoDBPersistenceLayer } from "@aws-lambda-powertools/idempotency/dynamodb";
import type { BasePersistenceLayer } from "@aws-lambda-powertools/idempotency/persistence";
import type { Context } from "aws-lambda";
import { decodeTags, IDEMPOTENCY_KEY_PREFIX, type Logger, MAX_EXTRA_TAGS, MAX_TAG_KEY_CHARS, MAX_TAG_VALUE_CHARS, sanitizeTagValue, TAG_KEYS, tagProblems, TRIGGER_ENV } from "../contract";
import { type CreatedObject, type IgnoredRecord, type IgnoreReason, parseTriggerEvent } from "./objectEvents";
import { buildStartJobRequest, computeRunId, type StartJobTarget } from "./startRequest";

// ---------------------------------------------------------------------------------------------------
// Configuration (environment variables of the Lambda)
// ---------------------------------------------------------------------------------------------------

/** @default 7 days, the stack config's `trigger.idempotencyDays` default. */
export const DEFAULT_IDEMPOTENCY_SECONDS = 7 * 24 * 3600;

/**
 * Retry settings of the Batch client the factory builds. SubmitJob is throttled at about 50 calls/s per
 * account (HTTP 429 TooManyRequestsException); adaptive mode also slows this container's own sending
 * rate after a throttle. When the attempts are used up the record fails and Lambda retries the event.
 */
export const SUBMIT_JOB_RETRY = { retryMode: "adaptive", maxAttempts: 5 } as const;

/** Validated settings of the trigger. */
export interface TriggerSettings {
  target: StartJobTarget;
  /** @default "" (none) */
  ignorePrefix: string;
  idempotency: {
    tableName: string;
    /** @default {@link DEFAULT_IDEMPOTENCY_SECONDS} */
    expiresAfterSeconds: number;
  };
}

/** The Lambda's environment is incomplete or wrong: a deployment bug, reported at cold start. */
export class TriggerConfigError extends Error {
  constructor(problems: string[]) {
    super(`Invalid S3 trigger environment: ${problems.join("; ")}`);
    this.name = "TriggerConfigError";
  }
}

/** Reads and validates `TRIGGER_ENV` (contract/env.ts); reports every problem at once, naming the variable. */
export function parseTriggerSettings(env: Readonly<Record<string, string | undefined>>): TriggerSettings {
  const problems: string[] = [];
  const required = (name: string): string => {
    const value = env[name]?.trim();
    if (!value) problems.push(`\`${name}\` is required`);
    return value ?? "";
  };
  const startQueue = required(TRIGGER_ENV.startQueue);
  const startJobDefinition = required(TRIGGER_ENV.startJobDefinition);
  const tableName = required(TRIGGER_ENV.idempotencyTable);
  const stack = required(TRIGGER_ENV.stack);
  // Sent unchanged (a sanitized value would no longer match the IAM condition), so it must already be
  // a tag value: what sanitizeTagValue leaves as it is.
  if (stack && sanitizeTagValue(stack) !== stack) {
    problems.push(
      `\`${TRIGGER_ENV.stack}\` must be a tag value for \`${TAG_KEYS.stack}\` (at most ${MAX_TAG_VALUE_CHARS} letters, digits, spaces or _ . : / = + - @), got ${JSON.stringify(stack)}`,
    );
  }

  let expiresAfterSeconds = DEFAULT_IDEMPOTENCY_SECONDS;
  const rawSeconds = env[TRIGGER_ENV.idempotencySeconds]?.trim();
  if (rawSeconds) {
    expiresAfterSeconds = Number(rawSeconds);
    if (!/^[0-9]+$/.test(rawSeconds) || expiresAfterSeconds < 1) {
      problems.push(`\`${TRIGGER_ENV.idempotencySeconds}\` must be a positive whole number of seconds, got ${JSON.stringify(rawSeconds)}`);
    }
  }

  let tags: Record<string, string> = {};
  const rawTags = env[TRIGGER_ENV.jobTags]?.trim();
  if (rawTags) {
    const problem = `\`${TRIGGER_ENV.jobTags}\` must be a JSON object of at most ${MAX_EXTRA_TAGS} string tags (keys of 1 to ${MAX_TAG_KEY_CHARS} characters, not starting with \`aws:\` or \`pipeline:\`)`;
    const decoded = decodeTags(rawTags);
    if (!decoded.ok) problems.push(decoded.error === "json" ? `${problem}, got invalid JSON` : `${problem}, got ${rawTags}`);
    else {
      const broken = tagProblems(decoded.value);
      if (broken.length > 0) problems.push(`${problem}, got ${rawTags}: ${broken.join("; ")}`);
      else tags = decoded.value;
    }
  }

  if (problems.length > 0) throw new TriggerConfigError(problems);
  const shareIdentifier = env[TRIGGER_ENV.shareIdentifier]?.trim();
  return {
    target: { jobQueue: startQueue, jobDefinition: startJobDefinition, stack, tags, ...(shareIdentifier ? { shareIdentifier } : {}) },
    ignorePrefix: env[TRIGGER_ENV.ignorePrefix] ?? "",
    idempotency: { tableName, expiresAfterSeconds },
  };
}

// ---------------------------------------------------------------------------------------------------
// Injected dependencies
// ---------------------------------------------------------------------------------------------------

/** The one Batch call the trigger makes. An aggregated `Batch` client satisfies it. */
export interface StartJobSubmitter {
  submitJob(input: SubmitJobCommandInput): Promise<SubmitJobCommandOutput>;
}

/** What the idempotency store remembers for an object version (and returns on a duplicate delivery). */
export interface StoredStartJob {
  runId: string;
  jobId: string;
  jobName: string;
  jobArn?: string;
}

/**
 * Makes the per-record submit run at most once per run id. Implemented over Powertools by
 * {@link powertoolsIdempotency}; tests may use an in-memory fake.
 */
export interface RecordIdempotency {
  /**
   * Returns `fn` made idempotent on its FIRST argument (the run id): while a record for it exists, calls
   * return the stored result without running `fn`; if `fn` throws, nothing is remembered. Other
   * arguments are passed through untouched. The result must be JSON.
   */
  wrap<Rest extends unknown[]>(fn: (runId: string, ...rest: Rest) => Promise<StoredStartJob>): (runId: string, ...rest: Rest) => Promise<StoredStartJob>;
  /** Called once per invocation, so an in-progress lock expires when the invocation would have. */
  registerLambdaContext?(context: Context): void;
}

/** The Powertools pieces {@link powertoolsIdempotency} needs. */
export interface PowertoolsIdempotencyOptions {
  makeIdempotent: typeof makeIdempotent;
  config: IdempotencyConfig;
  persistenceStore: BasePersistenceLayer;
  /** @default {@link IDEMPOTENCY_KEY_PREFIX} */
  keyPrefix?: string;
}

/**
 * {@link RecordIdempotency} over Powertools' `makeIdempotent`: a conditional PutItem claims the run id
 * (status INPROGRESS, expiring with the invocation), the submit runs, an UpdateItem stores its result
 * (COMPLETED, TTL `expiration`). A duplicate's PutItem fails its condition and Powertools returns the
 * stored result; a duplicate that races an in-flight submit gets `IdempotencyAlreadyInProgressError`,
 * which fails the record so Lambda retries it later. A failed submit deletes the claim.
 */
export function powertoolsIdempotency(options: PowertoolsIdempotencyOptions): RecordIdempotency {
  const { config, persistenceStore } = options;
  const keyPrefix = options.keyPrefix ?? IDEMPOTENCY_KEY_PREFIX;
  return {
    wrap: <Rest extends unknown[]>(fn: (runId: string, ...rest: Rest) => Promise<StoredStartJob>) => {
      // Powertools' option type is conditional on the arguments, which TypeScript cannot resolve for a generic `Rest`.
      const loose = fn as (runId: string, ...rest: unknown[]) => Promise<StoredStartJob>;
      return options.makeIdempotent(loose, { persistenceStore, config, keyPrefix, dataIndexArgument: 0 }) as typeof fn;
    },
    registerLambdaContext: (context) => config.registerLambdaContext(context),
  };
}

/** Logs objects through `console`, which the Lambda runtime turns into JSON log records. */
export const consoleLogger: Logger = {
  info: (message, fields) => console.info({ message, ...fields }),
  warn: (message, fields) => console.warn({ message, ...fields }),
  error: (message, fields) => console.error({ message, ...fields }),
};

export interface TriggerDeps {
  /** Typically `new Batch({ ...SUBMIT_JOB_RETRY })`: retries of throttled calls happen in the client. */
  batch: StartJobSubmitter | Pick<Batch, "submitJob">;
  idempotency: RecordIdempotency;
  config: Pick<TriggerSettings, "target"> & Partial<Pick<TriggerSettings, "ignorePrefix">>;
  /** @default {@link consoleLogger} */
  log?: Logger;
}

// ---------------------------------------------------------------------------------------------------
// The handler
// ---------------------------------------------------------------------------------------------------

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
    this.name = "StartJobSubmitError";
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
      .map((f) => `#${f.index}${f.key !== undefined ? ` s3://${f.bucket}/${f.key}` : ""}${f.versionId ? ` (version ${f.versionId})` : ""}: ${f.error.message}`)
      .join("; ");
    super(
      failures.map((f) => f.error),
      `${failures.length} of ${total} S3 record(s) failed: ${list}`,
    );
    this.name = "TriggerRecordsFailedError";
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

const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

/** Builds the handler around injected clients. The submit is wrapped for idempotency once, here. */
export function createTriggerHandler(deps: TriggerDeps): TriggerHandler {
  const log = deps.log ?? consoleLogger;
  const batch = deps.batch as StartJobSubmitter;
  const { target } = deps.config;
  const ignorePrefix = deps.config.ignorePrefix ?? "";

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
      throw new StartJobSubmitError(`start job ${request.jobName} was not submitted: ${asError(cause).name}: ${asError(cause).message}`, { cause });
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
    const parsed = parseTriggerEvent(event, { ignorePrefix });
    for (const ignored of parsed.ignored) log.info("S3 record ignored", { ...ignored });
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
        failures.push({ ...where, error: asError(result.reason) });
      }
    });

    if (failures.length > 0) {
      const total = parsed.created.length + parsed.invalid.length;
      const error = new TriggerRecordsFailedError(failures.sort((a, b) => a.index - b.index), total);
      log.error("S3 records failed; the event will be retried", {
        failures: error.failures.map(({ error: e, ...f }) => ({ ...f, error: `${e.name}: ${e.message}` })),
        submitted: jobs.length,
      });
      throw error;
    }
    return { jobs, ignored: parsed.ignored };
  };
}

// ---------------------------------------------------------------------------------------------------
// Wiring for the Lambda factory
// ---------------------------------------------------------------------------------------------------

/** The npm exports the factory `require()`s and passes in (so this module never imports them). */
export interface TriggerModules {
  /** `require("@aws-sdk/client-batch").Batch` */
  Batch: new (config: BatchClientConfig) => StartJobSubmitter | Pick<Batch, "submitJob">;
  /**
   * `require("@aws-sdk/client-dynamodb").DynamoDBClient`, for the idempotency store.
   * @default Powertools builds its own client from the same package
   */
  DynamoDBClient?: new (config: DynamoDBClientConfig) => DynamoDBClient;
  /** `require("@aws-lambda-powertools/idempotency").makeIdempotent` */
  makeIdempotent: typeof makeIdempotent;
  /** `require("@aws-lambda-powertools/idempotency").IdempotencyConfig` */
  IdempotencyConfig: typeof IdempotencyConfig;
  /** `require("@aws-lambda-powertools/idempotency/dynamodb").DynamoDBPersistenceLayer` */
  DynamoDBPersistenceLayer: typeof DynamoDBPersistenceLayer;
}

/** Test seams; production passes none. */
export interface TriggerClientOverrides {
  /** Merged over {@link SUBMIT_JOB_RETRY} (e.g. a fake `requestHandler`, a fast `retryStrategy`). @default {} */
  batch?: Partial<BatchClientConfig>;
  /** Config of the DynamoDB client Powertools creates. @default {} */
  dynamodb?: DynamoDBClientConfig;
  /** @default {@link consoleLogger} */
  log?: Logger;
}

/**
 * Everything the Lambda factory does, in one call: validate the environment (throwing
 * {@link TriggerConfigError} at cold start), build the clients once per container, return the handler.
 * The SDK clients honour `AWS_ENDPOINT_URL`, so the same code runs against any AWS-compatible endpoint.
 */
export function buildTriggerHandlerFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  modules: TriggerModules,
  overrides: TriggerClientOverrides = {},
): TriggerHandler {
  const settings = parseTriggerSettings(env);
  const batch = new modules.Batch({ ...SUBMIT_JOB_RETRY, ...overrides.batch });
  const config = new modules.IdempotencyConfig({ expiresAfterSeconds: settings.idempotency.expiresAfterSeconds, throwOnNoIdempotencyKey: true });
  const tableName = settings.idempotency.tableName;
  const persistenceStore = modules.DynamoDBClient
    ? new modules.DynamoDBPersistenceLayer({ tableName, awsSdkV3Client: new modules.DynamoDBClient(overrides.dynamodb ?? {}) })
    : new modules.DynamoDBPersistenceLayer({ tableName, clientConfig: overrides.dynamodb ?? {} });
  return createTriggerHandler({
    batch,
    idempotency: powertoolsIdempotency({ makeIdempotent: modules.makeIdempotent, config, persistenceStore }),
    config: settings,
    ...(overrides.log ? { log: overrides.log } : {}),
  });
}

/** Alias of {@link buildTriggerHandlerFromEnv}, the name infra/triggerHandler.ts imports. */
export const buildTriggerHandler = buildTriggerHandlerFromEnv;
