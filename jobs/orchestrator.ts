/**
 * The start job's command line. Inputs come from the environment the S3 trigger and the job definition
 * set (see START_JOB_ENV); flags override them, which is handy for a local `--dry-run`.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { EXIT_CODES } from "../contract";
import { isDeterministicFailure, SubmissionError } from "../batch/attempts";
import type { BatchApi } from "../batch/calls";
import { BATCH_COMMANDS, createBatchClient, createSubmitBatchClient } from "../batch/clients";
import { FLAG_ENV, InputError, readInputs, type StartJobInputs } from "./inputs";
import { createJsonLogger, type Logger } from "./log";
import { findOwningStartJob } from "./ownership";
import { PlanError, planWorkflow, type Plan } from "../workflow/planner";
import { renderPlanTree } from "../workflow/render";
import { submitPlan } from "../batch/submitter";
import { waitForJobs, WaitError } from "./wait";

export { EXIT_CODES };

/** Injected so tests drive the CLI without a process, AWS or real time. */
export interface CliDeps {
  /** @default process.stdout */
  stdout?: (text: string) => void;
  /** Receives the JSON log lines. @default process.stderr */
  stderr?: (text: string) => void;
  /** A client, or a factory called only when AWS is needed (never on `--dry-run`). @default createBatchClient */
  batch?: BatchApi | (() => BatchApi);
  /**
   * The client (or factory) for SubmitJob, which must not retry SubmitJob itself.
   * @default `batch` when that is given (a test stub), else createSubmitBatchClient
   */
  submitBatch?: BatchApi | (() => BatchApi);
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** Aborted on SIGTERM by the bin entry. */
  signal?: AbortSignal;
}

function positiveInt(value: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError("must be a positive integer");
  return Number(value);
}

function buildProgram(out: (t: string) => void, err: (t: string) => void): Command {
  return new Command()
    .name("orchestrator")
    .description("Plans a workflow run for one S3 object and submits it to AWS Batch as a DAG of array jobs.")
    .option("--run-id <id>", `run id (env ${FLAG_ENV.runId})`)
    .option("--bucket <name>", `input bucket (env ${FLAG_ENV.bucket})`)
    .option("--key <key>", `decoded input key (env ${FLAG_ENV.key})`)
    .option("--version-id <id>", `input version id (env ${FLAG_ENV.versionId})`)
    .option("--size <bytes>", `input size in bytes (env ${FLAG_ENV.size})`)
    .option("--etag <etag>", `input ETag (env ${FLAG_ENV.etag})`)
    .option("--workflow <json>", `workflow spec JSON (env ${FLAG_ENV.workflow})`)
    .option("--queue <name-or-arn>", `process job queue (env ${FLAG_ENV.queue})`)
    .option("--job-definitions <json>", `job definition key → name, JSON (env ${FLAG_ENV.jobDefinitions})`)
    .option("--stack <id>", `the stack's id, tagged on every job (env ${FLAG_ENV.stack})`)
    .option("--dry-run", "print the plan and exit; no AWS calls", false)
    .addOption(new Option("--format <format>", "dry-run output").choices(["tree", "json"]).default("tree"))
    .option("--wait", "wait for the DAG and exit 0 only if every job succeeded", false)
    .option("--poll-interval <seconds>", "with --wait: seconds between DescribeJobs polls", positiveInt, 30)
    .option("--concurrency <n>", "SubmitJob calls in flight at once", positiveInt, 4)
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: err });
}

interface CliOptions {
  runId?: string;
  bucket?: string;
  key?: string;
  versionId?: string;
  size?: string;
  etag?: string;
  workflow?: string;
  queue?: string;
  jobDefinitions?: string;
  stack?: string;
  dryRun: boolean;
  format: "tree" | "json";
  wait: boolean;
  pollInterval: number;
  concurrency: number;
}

/**
 * Runs the orchestrator. `argv` holds only the arguments (no `node` and script path).
 * @returns the process exit code (see {@link EXIT_CODES})
 */
export async function run(argv: readonly string[], env: Record<string, string | undefined>, deps: CliDeps = {}): Promise<number> {
  const stdout = deps.stdout ?? ((t: string) => void process.stdout.write(t));
  const stderr = deps.stderr ?? ((t: string) => void process.stderr.write(t));
  const program = buildProgram(stdout, stderr);
  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.invalidInput;
    throw err;
  }
  const opts = program.opts<CliOptions>();
  let log: Logger = createJsonLogger({ write: (line) => stderr(`${line}\n`) });

  let inputs: StartJobInputs;
  let plan: Plan;
  try {
    inputs = readInputs(env, opts);
    log = createJsonLogger({ write: (line) => stderr(`${line}\n`), base: { runId: inputs.runId, ...(inputs.ownJobId ? { batchJobId: inputs.ownJobId } : {}) } });
    plan = planWorkflow(inputs.workflow, {
      runId: inputs.runId,
      input: inputs.input,
      jobDefinitions: inputs.jobDefinitions,
      jobQueue: inputs.jobQueue,
      stack: inputs.stack,
      tags: inputs.tags,
      ...(inputs.outputRoot !== undefined ? { outputRoot: inputs.outputRoot } : {}),
    });
  } catch (err) {
    if (err instanceof InputError) {
      log.error("invalid input", { problems: err.problems });
      return EXIT_CODES.invalidInput;
    }
    if (err instanceof PlanError) {
      log.error("cannot plan the workflow for this input", { error: err.message });
      return EXIT_CODES.invalidInput;
    }
    throw err;
  }

  if (opts.dryRun) {
    stdout(opts.format === "json" ? `${JSON.stringify(plan, null, 2)}\n` : `${renderPlanTree(plan)}\n`);
    return EXIT_CODES.ok;
  }

  const client = (given: BatchApi | (() => BatchApi) | undefined) => (typeof given === "function" ? given() : given);
  const batch = client(deps.batch) ?? createBatchClient();
  const submitBatch = client(deps.submitBatch) ?? (deps.batch ? batch : createSubmitBatchClient());
  log.info("planned", { attempt: inputs.attempt, steps: plan.steps.map((s) => ({ step: s.name, width: s.width, jobs: s.jobIds.length })), submitJobCalls: plan.jobs.length });
  try {
    // Another live start job of this run owns it. Without --wait, stand aside. With --wait, the exit code
    // must be the run's: follow the owner until it ends, then look again (its DAG is then found below).
    const batchDeps = { batch, commands: BATCH_COMMANDS, log, sleep: deps.sleep };
    const waitDeps = { ...batchDeps, pollIntervalMs: opts.pollInterval * 1000, sleep: abortableSleep(deps.sleep, deps.signal), now: deps.now };
    for (let owner = inputs.ownJobId ? await findOwningStartJob(inputs.ownJobId, batchDeps) : undefined; owner; ) {
      log.warn("an older start job of this run owns it; not submitting", { owner: owner.jobId, ownerStatus: owner.status, wait: opts.wait });
      if (!opts.wait) {
        stdout(`${JSON.stringify({ runId: plan.runId, outcome: "duplicate", owner: owner.jobId })}\n`);
        return EXIT_CODES.ok;
      }
      await waitForJobs([owner.jobId!], waitDeps);
      owner = await findOwningStartJob(inputs.ownJobId!, batchDeps);
    }
    const submitted = await submitPlan(plan, {
      ...batchDeps,
      submitBatch,
      concurrency: opts.concurrency,
      attempt: inputs.attempt,
      ownJobId: inputs.ownJobId,
      signal: deps.signal,
    });
    stdout(`${JSON.stringify({ runId: plan.runId, outcome: submitted.outcome, jobs: submitted.jobs })}\n`);
    if (!opts.wait) return EXIT_CODES.ok;

    const result = await waitForJobs(submitted.jobs.map((j) => j.jobId), waitDeps);
    return result.outcome === "SUCCEEDED" ? EXIT_CODES.ok : EXIT_CODES.runFailed;
  } catch (err) {
    if (err instanceof InterruptedError) {
      log.warn("interrupted while waiting; the DAG keeps running and a retried attempt waits for it again", {});
      return EXIT_CODES.interrupted;
    }
    if (deps.signal?.aborted) {
      // SIGTERM mid-submission: what was submitted has been terminated (see submitPlan).
      log.warn("interrupted while submitting; a retried attempt starts over", { error: err });
      return EXIT_CODES.interrupted;
    }
    return failureExitCode(err, log);
  }
}

/**
 * Exit code of a failed submission or wait: {@link EXIT_CODES.submissionRejected} (not retried) when
 * Batch refused a call deterministically, else {@link EXIT_CODES.submissionFailed} (retried). See
 * {@link isDeterministicFailure}.
 */
function failureExitCode(err: unknown, log: Logger): number {
  const deterministic = isDeterministicFailure(err);
  const message = err instanceof SubmissionError || err instanceof WaitError ? err.message : "unexpected error";
  log.error(message, {
    error: err,
    retry: !deterministic,
    ...(deterministic ? { why: "Batch refused a call as a client error (HTTP 4xx): a retry would be refused again" } : {}),
  });
  return deterministic ? EXIT_CODES.submissionRejected : EXIT_CODES.submissionFailed;
}

class InterruptedError extends Error {
  override readonly name = "InterruptedError";
}

/** A sleep that ends early, with {@link InterruptedError}, when `signal` aborts (SIGTERM). */
function abortableSleep(sleep: ((ms: number) => Promise<void>) | undefined, signal: AbortSignal | undefined): (ms: number) => Promise<void> {
  return (ms) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(new InterruptedError("aborted"));
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => {
        clearTimeout(timer);
        reject(new InterruptedError("aborted"));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      const done = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      if (sleep) void sleep(ms).then(done, reject);
      else timer = setTimeout(done, ms);
    });
}
