/**
 * `batch-pipeline status RUN`: a run as Batch shows it now, drawn as the status screen (cli/runModel/screen.ts),
 * with the first failed tasks of each failing array job described so their reasons, exit codes and log
 * commands are on screen. Exit code 0 while the run is going or once it succeeded, 1 once it failed, 2 for
 * an unknown run: a script can `status` a run and branch on the outcome.
 */
import type { Command } from "commander";
import type { CliContext } from "../app/context";
import type { CommandSetup } from "../app/setup";
import { readRun, type RunAccess, runAccess } from "../runModel/access";
import { collectFailures, exitCodeOf, statusJson } from "../runModel/failures";
import type { RunSnapshot } from "../runModel/model";
import { checkRunId } from "../runModel/read";
import { renderStatus } from "../runModel/screen";

/** Prints the status screen (or `--json`) of a snapshot already read. */
async function printStatus(snapshot: RunSnapshot, access: RunAccess, ctx: CliContext, json: boolean): Promise<void> {
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
