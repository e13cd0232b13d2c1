/**
 * `batch-pipeline status RUN`: a run as Batch shows it now, drawn as the status screen (cli/runModel/screen.ts),
 * with the first failed tasks of each failing array job described so their reasons, exit codes and log
 * commands are on screen. Exit code 0 while the run is going or once it succeeded, 1 once it failed, 2 for
 * an unknown run: a script can `status` a run and branch on the outcome.
 */
import type { Command } from "commander";
import type { CliContext } from "../app/context";
import { CLI_EXIT, awsCall } from "../app/errors";
import { loadDeployedStack, type StackOutputs } from "../stack/outputs";
import type { CommandSetup } from "../app/program";
import { checkRunId, fetchRun, type FetchRunOptions, listChildren, type RunDeps } from "../runModel/read";
import { type RunSnapshot } from "../runModel/model";
import { type JobFailure, jobLogsCommand, logsCommand, renderStatus } from "../runModel/screen";

/** Failed children described per array job: enough to see the pattern, a handful of Batch calls. */
export const FAILED_CHILDREN_SHOWN = 5;
/** Array jobs whose failed children are listed (2 calls each); the others show their counts only. */
export const FAILED_ARRAYS_LISTED = 5;

/** What a command needs to read runs: the stack's names and the Batch client, clock and sleep. */
export interface RunAccess {
  /** The stack's name, for the commands the screens suggest. */
  stack: string;
  outputs: StackOutputs;
  deps: RunDeps;
}

/** The deployed stack's outputs and a Batch client for its region. */
export async function runAccess(setup: CommandSetup): Promise<RunAccess> {
  const { ctx } = setup;
  const { stack, outputs, region } = await loadDeployedStack(setup.globals(), ctx);
  return { stack, outputs, deps: { batch: ctx.aws(region).batch(), now: () => ctx.now(), sleep: (ms) => ctx.sleep(ms) } };
}

/** {@link fetchRun} with SDK errors as one-line messages. */
export function readRun(runId: string, access: RunAccess, previous?: RunSnapshot, options?: FetchRunOptions): Promise<RunSnapshot> {
  return awsCall("Batch ListJobs/DescribeJobs", () => fetchRun(runId, access.outputs, access.deps, previous, options));
}

/**
 * Every failed job of the run (start jobs first) and every array job with failed children, with the
 * first {@link FAILED_CHILDREN_SHOWN} failed children of the first {@link FAILED_ARRAYS_LISTED} such
 * array jobs that ran. An array job that never ran (a failed dependency) has no children to list.
 */
export async function collectFailures(snapshot: RunSnapshot, deps: RunDeps): Promise<JobFailure[]> {
  const failing = [...snapshot.startJobs, ...snapshot.jobs].filter((j) => j.status === "FAILED" || (j.array && j.counts.FAILED > 0));
  let listed = 0;
  const failures: JobFailure[] = [];
  for (const job of failing) {
    if (!job.array) {
      failures.push({ job, failedTasks: 1, children: [], listed: false });
      continue;
    }
    const list = job.spawned > 0 && listed++ < FAILED_ARRAYS_LISTED;
    const children = list ? await awsCall("Batch ListJobs/DescribeJobs", () => listChildren(job.jobId, ["FAILED"], deps, FAILED_CHILDREN_SHOWN)) : [];
    failures.push({ job, failedTasks: job.counts.FAILED, children, listed: list });
  }
  return failures;
}

/** The run and its failures as one JSON value: the snapshot, plus each failure with task numbers and log commands. */
export function statusJson(snapshot: RunSnapshot, failures: readonly JobFailure[], stack?: string) {
  return {
    ...snapshot,
    failures: failures.map(({ job, failedTasks, children }) => ({
      jobId: job.jobId,
      jobName: job.jobName,
      step: job.step,
      kind: job.kind,
      status: job.status,
      ...(job.statusReason ? { statusReason: job.statusReason } : {}),
      ...(job.exitCode !== undefined ? { exitCode: job.exitCode } : {}),
      failedTasks,
      ...(jobLogsCommand(job, snapshot.runId, stack) ? { logs: jobLogsCommand(job, snapshot.runId, stack) } : {}),
      children: children.map((child) => ({ ...child, task: job.taskOffset + child.index, logs: logsCommand(snapshot.runId, job.step, job.taskOffset + child.index, stack) })),
    })),
  };
}

/** The exit code a run's state means: 1 once it failed, else 0 (succeeded, or still going). */
export const exitCodeOf = (snapshot: RunSnapshot): number => (snapshot.state === "FAILED" ? CLI_EXIT.failed : CLI_EXIT.ok);

/** Prints the status screen (or `--json`) of a snapshot already read. */
export async function printStatus(snapshot: RunSnapshot, access: RunAccess, ctx: CliContext, json: boolean): Promise<void> {
  const failures = await collectFailures(snapshot, access.deps);
  if (json) ctx.term.out(`${JSON.stringify(statusJson(snapshot, failures, access.stack))}\n`);
  else ctx.term.out(`${renderStatus(snapshot, failures, { color: ctx.term.color, columns: ctx.term.columns, now: ctx.now(), stack: access.stack }).join("\n")}\n`);
}

/** Registers `status RUN [--json]`; its exit code is the run's outcome so far (see {@link exitCodeOf}). */
export function statusCommand(program: Command, setup: CommandSetup): void {
  program
    .command("status")
    .description("show a run: its DAG with each step's progress and state counts, durations, and every failure with its reason, exit code and log command")
    .argument("<run>", "the run id (24 hex characters, as `submit` and `runs` print it)")
    .option("--json", "print the run as one JSON document: the snapshot and its failures, with the failed tasks")
    .addHelpText("after", "\nExit code: 0 when the run succeeded or is still going, 1 when it failed, 2 when Batch lists no job of it.")
    .action(
      setup.action(async (runId: string, opts: { json?: boolean }) => {
        checkRunId(runId);
        const access = await runAccess(setup);
        const snapshot = await readRun(runId, access);
        await printStatus(snapshot, access, setup.ctx, Boolean(opts.json));
        return exitCodeOf(snapshot);
      }),
    );
}
