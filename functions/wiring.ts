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
import { createTriggerHandler, type StartJobSubmitter, type TriggerHandler } from "./handler";
import { powertoolsIdempotency } from "./idempotency";
import { parseTriggerSettings } from "./settings";

/**
 * Retry settings of the Batch client the factory builds. SubmitJob is throttled at about 50 calls/s per
 * account (HTTP 429 TooManyRequestsException); adaptive mode also slows this container's own sending
 * rate after a throttle. When the attempts are used up the record fails and Lambda retries the event.
 */
export const SUBMIT_JOB_RETRY = { retryMode: "adaptive", maxAttempts: 5 } as const;

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
