/**
 * What makes one object version submit one start job: the record the idempotency store keeps and the
 * adapter over Powertools' `makeIdempotent`.
 *
 * Serialized BY VALUE into the inline Pulumi Lambda (built by infra/triggerHandler.ts): no value imports of npm
 * packages or Node builtins here, only `import type`.
 */
import type { IdempotencyConfig, makeIdempotent } from "@aws-lambda-powertools/idempotency";
import type { BasePersistenceLayer } from "@aws-lambda-powertools/idempotency/persistence";
import type { Context } from "aws-lambda";
import { IDEMPOTENCY_KEY_PREFIX } from "../contract/codec";

/**
 * What the idempotency store remembers for an object version (and returns on a duplicate delivery): its start
 * job, or with `orchestrator: "inline"` the first job of the DAG the trigger submitted itself and the DAG's size.
 */
export interface StoredStartJob {
  runId: string;
  jobId: string;
  jobName: string;
  jobArn?: string;
  /** Present when the trigger submitted the DAG itself (`orchestrator.mode` inline or auto). @default a start job */
  orchestrator?: "inline";
  /** With `orchestrator: "inline"`: how many jobs the DAG has. */
  jobs?: number;
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
