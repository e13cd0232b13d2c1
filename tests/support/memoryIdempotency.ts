/** An in-memory stand-in for the trigger's idempotency store (functions/idempotency.ts), with Powertools' behaviour. */
import type { RecordIdempotency, StoredStartJob } from "../../functions/idempotency";

/** What Powertools does, minus DynamoDB: one result per run id, nothing remembered on failure. */
export function memoryIdempotency(): RecordIdempotency & { store: Map<string, StoredStartJob> } {
  const store = new Map<string, StoredStartJob>();
  const inFlight = new Set<string>();
  return {
    store,
    wrap: (fn) => async (runId, ...rest) => {
      const done = store.get(runId);
      if (done) return done;
      if (inFlight.has(runId)) throw new Error(`run ${runId} is in progress`);
      inFlight.add(runId);
      try {
        const result = await fn(runId, ...rest);
        store.set(runId, result);
        return result;
      } finally {
        inFlight.delete(runId);
      }
    },
  };
}
