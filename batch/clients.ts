/**
 * The Batch clients and the SDK's command classes, for the processes that load `@aws-sdk/client-batch`
 * themselves: the start job's container (jobs/orchestrator.ts) and the CLI. Never captured by a Lambda's
 * serialized code, which `require()`s the package at run time and injects it (calls.ts takes only types).
 */
import { BatchClient, type BatchClientConfig, DescribeJobsCommand, ListJobsCommand, SubmitJobCommand, TerminateJobCommand } from "@aws-sdk/client-batch";
import { DEFAULT_MAX_ATTEMPTS, type BatchCommands } from "./calls";

/** The real command classes, as {@link BatchCommands} carries them to the calls. */
export const BATCH_COMMANDS: BatchCommands = { SubmitJobCommand, ListJobsCommand, DescribeJobsCommand, TerminateJobCommand };

/**
 * The Batch client the orchestrator uses: `retryMode: "adaptive"` retries throttling (HTTP 429
 * TooManyRequestsException) with backoff and also rate-limits the client once it has been throttled,
 * which suits SubmitJob's ~50 calls/s account-wide limit; `maxAttempts` 10. No endpoint or region is set
 * here: the SDK itself honours `AWS_ENDPOINT_URL_BATCH` / `AWS_ENDPOINT_URL` (e.g. a local emulator) and
 * `AWS_REGION`, which Batch sets in every container. `config` overrides (tests pass a `requestHandler`).
 */
export function createBatchClient(config: BatchClientConfig = {}): BatchClient {
  return new BatchClient({ retryMode: "adaptive", maxAttempts: DEFAULT_MAX_ATTEMPTS, ...config });
}

/**
 * The client SubmitJob goes through: the SDK never retries it (`maxAttempts: 1`, whatever `config` says).
 * SubmitJob has no client token, and the SDK retries 5xx answers, timeouts and reset connections, any of
 * which can come after Batch created the job: a retry would then run the step twice. The submitter
 * retries only what cannot have created a job (throttling: HTTP 429) and looks the job up by name after
 * anything ambiguous. `retryMode: "adaptive"` is kept for its client-side rate limiter, which still learns
 * from every 429 (the retry strategy sees the error before it refuses a second attempt) and paces the
 * next calls. The Batch client config has no per-command retry strategy, hence a client of its own; read
 * calls and TerminateJob keep {@link createBatchClient}'s retries.
 */
export function createSubmitBatchClient(config: BatchClientConfig = {}): BatchClient {
  return new BatchClient({ retryMode: "adaptive", ...config, maxAttempts: 1 });
}
