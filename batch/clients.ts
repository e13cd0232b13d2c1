/**
 * The Batch clients and the SDK's command classes, for the processes that load `@aws-sdk/client-batch`
 * themselves: the start job's container (jobs/orchestrator.ts) and the CLI. Never captured by a Lambda's
 * serialized code, which `require()`s the package at run time and injects it (calls.ts takes only types).
 */
import { BatchClient, type BatchClientConfig, DescribeJobsCommand, ListJobsCommand, SubmitJobCommand, TerminateJobCommand } from "@aws-sdk/client-batch";
import { BATCH_CLIENT_CONFIG, SUBMIT_CLIENT_CONFIG, type BatchCommands } from "./calls";

/** The real command classes, as {@link BatchCommands} carries them to the calls. */
export const BATCH_COMMANDS: BatchCommands = { SubmitJobCommand, ListJobsCommand, DescribeJobsCommand, TerminateJobCommand };

/**
 * The Batch client for read calls and TerminateJob ({@link BATCH_CLIENT_CONFIG}). No endpoint or region is set
 * here: the SDK itself honours `AWS_ENDPOINT_URL_BATCH` / `AWS_ENDPOINT_URL` (e.g. a local emulator) and
 * `AWS_REGION`, which Batch sets in every container. `config` overrides (tests pass a `requestHandler`).
 */
export function createBatchClient(config: BatchClientConfig = {}): BatchClient {
  return new BatchClient({ ...BATCH_CLIENT_CONFIG, ...config });
}

/**
 * The client SubmitJob goes through ({@link SUBMIT_CLIENT_CONFIG}): never retried by the SDK, whatever `config`
 * says; read calls and TerminateJob keep {@link createBatchClient}'s retries.
 */
export function createSubmitBatchClient(config: BatchClientConfig = {}): BatchClient {
  return new BatchClient({ ...SUBMIT_CLIENT_CONFIG, ...config, maxAttempts: SUBMIT_CLIENT_CONFIG.maxAttempts });
}
