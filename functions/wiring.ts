/**
 * The Lambda wiring: what the inline callback's factory (infra/triggerHandler.ts) calls once per container
 * with the npm exports it `require()`s, so the rest of functions/ never imports an npm package's values.
 *
 * Serialized BY VALUE into the inline Pulumi Lambda (built by infra/triggerHandler.ts): no value imports of npm
 * packages or Node builtins here, only `import type`.
 */
import type { BatchClientConfig, Batch } from "@aws-sdk/client-batch";
import type { DynamoDBClient, DynamoDBClientConfig } from "@aws-sdk/client-dynamodb";
import type { IdempotencyConfig, makeIdempotent } from "@aws-lambda-powertools/idempotency";
import type { DynamoDBPersistenceLayer } from "@aws-lambda-powertools/idempotency/dynamodb";
import type { Logger } from "../contract";
import { BATCH_CLIENT_CONFIG, SUBMIT_CLIENT_CONFIG, type BatchApi, type BatchCommands } from "../batch/calls";
import type { WorkflowSpec } from "../workflow/spec";
import { createTriggerHandler, type StartJobSubmitter, type TriggerHandler } from "./handler";
import type { createInlineStarter, InlineStarter } from "./inline";
import { powertoolsIdempotency } from "./idempotency";
import { parseTriggerSettings } from "./settings";

/**
 * Retry settings of the Batch client the factory builds. SubmitJob is throttled at about 50 calls/s per
 * account (HTTP 429 TooManyRequestsException); adaptive mode also slows this container's own sending
 * rate after a throttle. When the attempts are used up the record fails and Lambda retries the event.
 */
export const SUBMIT_JOB_RETRY = { retryMode: "adaptive", maxAttempts: 5 } as const;

/**
 * What bounds the inline submission's Batch calls in time, on top of the container's client settings: the
 * invocation's budget stops the submitter only between calls and in its own backoffs (functions/inline.ts), so
 * - no request may hang: the SDK's HTTP handler has no request timeout by default; 5 s, then a `TimeoutError`
 *   (`throwOnRequestTimeout`: newer handlers only warn without it), which the submitter treats as a SubmitJob
 *   that may have created its job (looked up by name);
 * - the read and TerminateJob client retries at most twice itself (the container's 10 attempts back off inside
 *   the SDK, past the budget): the submitter's own throttle backoff, which the budget bounds, does the rest.
 */
export const INLINE_CLIENT_BOUNDS = { maxAttempts: 3, requestHandler: { requestTimeout: 5_000, throwOnRequestTimeout: true } } as const;

/** The npm exports the factory `require()`s and passes in (so this module never imports them). */
export interface TriggerModules {
  /** `require("@aws-sdk/client-batch").Batch` */
  Batch: new (config: BatchClientConfig) => StartJobSubmitter | Pick<Batch, "submitJob">;
  /**
   * `require("@aws-sdk/client-batch")`'s `BatchClient` and command classes: what the inline submission sends
   * (`orchestrator.mode` inline or auto). @default none: a stack in container mode needs none
   */
  batchSdk?: BatchCommands & { BatchClient: new (config: BatchClientConfig) => BatchApi };
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

/**
 * What a trigger that submits DAGs itself (`orchestrator.mode` inline or auto) is built with: passed in by its
 * factory (infra/triggerHandler.ts), so a container-mode trigger's serialized code holds no planner or submitter.
 */
export interface InlineOrchestration {
  /** The stack's workflow, validated at preview. */
  workflow: WorkflowSpec;
  /** functions/inline.ts's. */
  createInlineStarter: typeof createInlineStarter;
}

/** Test seams; production passes none. */
export interface TriggerClientOverrides {
  /** Merged over {@link SUBMIT_JOB_RETRY} (e.g. a fake `requestHandler`, a fast `retryStrategy`). @default {} */
  batch?: Partial<BatchClientConfig>;
  /** Config of the DynamoDB client Powertools creates. @default {} */
  dynamodb?: DynamoDBClientConfig;
  /** @default `consoleLogger` (functions/handler.ts) */
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
  orchestration?: InlineOrchestration,
): TriggerHandler {
  const settings = parseTriggerSettings(env);
  let inline: InlineStarter | undefined;
  if (settings.inline) {
    // A deployment bug, not a config one: infra/triggerHandler.ts's inline factory passes both.
    if (!orchestration || !modules.batchSdk) throw new Error(`orchestrator mode ${settings.inline.mode} needs the stack's workflow and the Batch SDK from the trigger's factory`);
    const sdk = modules.batchSdk;
    inline = orchestration.createInlineStarter({
      ...settings.inline,
      workflow: orchestration.workflow,
      batch: new sdk.BatchClient({ ...BATCH_CLIENT_CONFIG, ...INLINE_CLIENT_BOUNDS, ...overrides.batch }),
      submitBatch: new sdk.BatchClient({ ...SUBMIT_CLIENT_CONFIG, requestHandler: INLINE_CLIENT_BOUNDS.requestHandler, ...overrides.batch, maxAttempts: SUBMIT_CLIENT_CONFIG.maxAttempts }),
      commands: sdk,
      ...(overrides.log ? { log: overrides.log } : {}),
    });
  }
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
    ...(inline ? { inline } : {}),
    ...(overrides.log ? { log: overrides.log } : {}),
  });
}

/** Alias of {@link buildTriggerHandlerFromEnv}, the name infra/triggerHandler.ts imports. */
export const buildTriggerHandler = buildTriggerHandlerFromEnv;
