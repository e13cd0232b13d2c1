/**
 * `batch-pipeline submit FILE [--key KEY] [--watch] [--json]`: uploads a file where the stack's trigger
 * starts a run (the input bucket, under the trigger prefix) and prints the run id the trigger will give
 * it: the same `computeRunId` over bucket, key and the version S3 gave the upload. `--watch` then follows
 * the run as `batch-pipeline watch` does (cli/runModel/follow.ts), once the trigger has started it: once its
 * start job or, for a run the trigger submits inline (`orchestrator.mode` inline, or auto for a small plan:
 * no start job), its DAG's jobs are listed.
 */
import { statSync } from "node:fs";
import { basename, resolve } from "node:path";
import { type Command, InvalidArgumentError, Option } from "commander";
import { runJobNamePrefix, startJobNamePrefix } from "../../contract";
import { computeRunId, startJobName } from "../../contract/run";
import { awsCall, CLI_EXIT, CliError } from "../app/errors";
import { formatBytes, formatDuration, table, terminalText } from "../app/format";
import { type DeployedStack, loadDeployedStack, stackAccount } from "../stack/outputs";
import type { CommandSetup } from "../app/setup";
import { accessOf } from "../runModel/access";
import { type AppearWait, DEFAULT_APPEAR_TIMEOUT_SECONDS, DEFAULT_INTERVAL_SECONDS, followRun } from "../runModel/follow";
import { describeUploadShape, keyProblem, partBytesFor, S3_MAX_OBJECT_BYTES, uploadFile } from "./upload";
import { progressReporter } from "./uploadProgress";

interface SubmitOptions {
  key?: string;
  watch?: boolean;
  json?: boolean;
  /** Seconds `--watch` waits for the run to appear. */
  appearTimeout: number;
}

/** What `--json` prints. */
export interface SubmitResult {
  bucket: string;
  key: string;
  versionId: string;
  eTag: string;
  sizeBytes: number;
  runId: string;
}

/** How often `--watch` looks for the run's jobs meanwhile. */
const START_JOB_POLL_MS = 3_000;

function fileSize(path: string): number {
  let stat;
  try {
    stat = statSync(path);
  } catch (error) {
    throw new CliError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; pass the path of a file to upload`);
  }
  if (!stat.isFile()) throw new CliError(`${path} is not a file; pass the path of a file to upload`);
  if (stat.size > S3_MAX_OBJECT_BYTES) throw new CliError(`${path} is ${formatBytes(stat.size)}; S3 objects are at most ${formatBytes(S3_MAX_OBJECT_BYTES)}`);
  return stat.size;
}

async function submit(file: string, options: SubmitOptions, setup: CommandSetup): Promise<number> {
  const { ctx } = setup;
  if (options.json && options.watch) throw new CliError("--json and --watch do not go together: pass one (`batch-pipeline watch RUN` follows a run after `submit --json`)");
  const path = resolve(ctx.cwd, file);
  const sizeBytes = fileSize(path);
  const deployed = await loadDeployedStack(setup.globals(), ctx);
  const { outputs } = deployed;
  const bucket = outputs.inputBucketName;
  const key = options.key ?? `${outputs.triggerPrefix}${basename(path)}`;
  const problem = keyProblem(key, sizeBytes, outputs);
  if (problem) throw new CliError(problem);

  const where = `s3://${bucket}/${terminalText(key)}`;
  const multipart = sizeBytes > partBytesFor(sizeBytes);
  ctx.term.err(`uploading ${terminalText(basename(path))} (${formatBytes(sizeBytes)}) to ${where} in ${describeUploadShape(sizeBytes)}\n`);
  const started = ctx.now();
  const reporter = progressReporter(ctx, { label: terminalText(basename(path)), totalBytes: sizeBytes, multipart });
  const s3 = ctx.aws(deployed.region).s3();
  let result;
  try {
    result = await awsCall(`S3 upload to ${where}`, () => uploadFile({ s3, bucket, expectedBucketOwner: stackAccount(outputs), key, path, sizeBytes, signal: ctx.signal, onProgress: (p) => reporter.update(p) }));
  } finally {
    reporter.stop();
  }
  if (result.kind === "aborted") {
    const cleaned = result.uploadId ? `; multipart upload ${result.uploadId} aborted, no parts left` : "";
    ctx.term.err(`interrupted: upload of ${where} aborted${cleaned}\n`);
    return CLI_EXIT.interrupted;
  }
  if (!result.versionId || result.versionId === "null") {
    throw new CliError(
      `uploaded ${where}, but S3 returned no version id: the input bucket must have versioning on (the stack turns it on; check \`aws s3api get-bucket-versioning --bucket ${bucket}\`). ` +
        "Without a version the run id is made from S3's event sequencer, which only the trigger sees, so it cannot be known here",
    );
  }
  const runId = await computeRunId({ bucket, key, versionId: result.versionId });
  if (options.json) {
    const json: SubmitResult = { bucket, key, versionId: result.versionId, eTag: result.eTag ?? "", sizeBytes, runId };
    ctx.term.out(`${JSON.stringify(json)}\n`);
    return CLI_EXIT.ok;
  }
  const c = ctx.term.color;
  const lines = table([
    ["uploaded", `${where} (${formatBytes(sizeBytes)}, version ${result.versionId}, ${multipart ? describeUploadShape(sizeBytes) : "one PutObject"}, ${formatDuration(ctx.now() - started)})`],
    ["run", c.bold(runId)],
    ["start job", `${startJobName(key, runId)} on ${outputs.startQueueArn} (none when the trigger submits the jobs inline)`],
    ["jobs", `${runJobNamePrefix(runId)}… on ${outputs.processQueueArn}`],
    ["next", `batch-pipeline watch ${runId}`],
    ["", `batch-pipeline logs ${runId} --follow`],
  ]);
  ctx.term.out(`${lines.join("\n")}\n`);
  if (!options.watch) return CLI_EXIT.ok;
  return followRun(runId, accessOf(deployed, ctx), ctx, { intervalMs: DEFAULT_INTERVAL_SECONDS * 1000, appear: startJobWait(deployed, runId, options.appearTimeout * 1000), json: false });
}

/**
 * The one wait for the run to appear (`followRun` then follows it as `watch` does): the trigger submits the
 * start job, or with `orchestrator.mode` inline the DAG itself, within seconds of the upload, and ListJobs is
 * eventually consistent, so the run is looked for every {@link START_JOB_POLL_MS} for up to `--appear-timeout`
 * ({@link DEFAULT_APPEAR_TIMEOUT_SECONDS} by default: seconds after an upload, unless a burst's backlog waits in
 * the trigger's queue or an inline attempt was withdrawn and is retried), each look a read of the run (both queues
 * listed by its names: which of the two appears is the stack's mode, or with auto the plan's size, which the CLI
 * does not know); after that the trigger's log and the dead-letter queue say why (exit 1).
 */
function startJobWait(deployed: DeployedStack, runId: string, timeoutMs: number): AppearWait {
  const { startQueueArn, processQueueArn, triggerFunctionName } = deployed.outputs;
  return {
    timeoutMs,
    pollMs: START_JOB_POLL_MS,
    note: `waiting for the trigger to submit ${startJobNamePrefix(runId)}… on ${startQueueArn} (or, inline, ${runJobNamePrefix(runId)}… on ${processQueueArn})`,
    gaveUp: () =>
      new CliError(
        `the trigger has not submitted a start job or any job of run ${runId} after ${formatDuration(timeoutMs)}: see the trigger's log (function ${triggerFunctionName}) and the dead-letter queue (\`batch-pipeline redrive --dry-run\`); ` +
          `with trigger.delivery: queue, a burst's backlog may still hold its event (the queue's ApproximateAgeOfOldestMessage): \`batch-pipeline watch ${runId}\` follows it once it appears, or pass --appear-timeout`,
        CLI_EXIT.failed,
      ),
  };
}

export function submitCommand(program: Command, setup: CommandSetup): void {
  program
    .command("submit")
    .description("upload a file under the trigger prefix (multipart above 5 MiB) and print the run id the trigger gives it")
    .argument("<file>", "the file to upload")
    .option("--key <key>", "the object key (default: <trigger prefix><file name>); must be one the trigger starts a run for")
    .option("--watch", "then follow the run, as `batch-pipeline watch RUN` does")
    .addOption(
      new Option("--appear-timeout <seconds>", "with --watch: how long to wait for the trigger to submit the run (a backlog in the trigger's queue, or an inline attempt retried, can take minutes)")
        .argParser(positiveSeconds)
        .default(DEFAULT_APPEAR_TIMEOUT_SECONDS),
    )
    .option("--json", "print {bucket, key, versionId, eTag, sizeBytes, runId} as JSON")
    .addHelpText("after", "\nCtrl-C aborts the upload (a multipart upload is aborted too, so no parts stay billed) and exits 130.")
    .action(setup.action((file: string, options: SubmitOptions) => submit(file, options, setup)));
}

function positiveSeconds(value: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError("must be a whole number of seconds, at least 1");
  return Number(value);
}
