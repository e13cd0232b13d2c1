/**
 * `batch-pipeline watch RUN`: follows a run until it ends and exits with its outcome (0 SUCCEEDED, 1
 * FAILED, 130 on Ctrl-C): the status screen redrawn in place on a TTY, otherwise one line per change, or
 * with `--json` one JSON line per poll that changed something (cli/runModel/follow.ts, which also says what
 * a poll costs). It polls every 15 s by default and never faster than every 5 s, so that watching does not
 * eat the account's Batch API budget. Right after `submit` the run may have no job yet (the trigger is
 * asynchronous): an unknown run is looked for again, at the same interval, for `--appear-timeout`.
 */
import type { Command } from "commander";
import { CliError } from "../app/errors";
import type { CommandSetup } from "../app/setup";
import { runAccess } from "../runModel/access";
import { DEFAULT_APPEAR_TIMEOUT_SECONDS, DEFAULT_INTERVAL_SECONDS, followRun } from "../runModel/follow";
import { checkRunId } from "../runModel/read";

/** The fastest `--interval` allowed: faster polling would spend the account's Batch budget on watching. */
export const MIN_INTERVAL_SECONDS = 5;

function seconds(flag: string, text: string, min: number, why: string): number {
  const value = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text.trim()) || !Number.isFinite(value)) throw new CliError(`${flag} ${text}: must be a number of seconds, e.g. ${flag} 30`);
  if (value < min) throw new CliError(`${flag} ${text}: must be at least ${min} seconds ${why}; pass ${flag} ${min} or more`);
  return value * 1000;
}

interface WatchOptions {
  interval: string;
  appearTimeout: string;
  json?: boolean;
}

/** Watches one run; resolves to the exit code. */
async function watchRun(runId: string, opts: WatchOptions, setup: CommandSetup): Promise<number> {
  checkRunId(runId);
  const intervalMs = seconds("--interval", opts.interval, MIN_INTERVAL_SECONDS, "(Batch's DescribeJobs shares the account's ~50 calls/s with SubmitJob)");
  const appearMs = seconds("--appear-timeout", opts.appearTimeout, 0, "");
  const access = await runAccess(setup);
  const note = `run ${runId} has no jobs yet; looking again every ${intervalMs / 1000}s for up to ${appearMs / 1000}s (the trigger starts runs asynchronously)`;
  return followRun(runId, access, setup.ctx, { intervalMs, appear: { timeoutMs: appearMs, pollMs: intervalMs, note }, json: Boolean(opts.json) });
}

/** Registers `watch RUN [--interval S] [--appear-timeout S] [--json]` (see {@link watchRun}). */
export function watchCommand(program: Command, setup: CommandSetup): void {
  program
    .command("watch")
    .description("follow a run until it ends: the status screen redrawn in place on a terminal, one line per change otherwise; exits with the run's outcome")
    .argument("<run>", "the run id (24 hex characters, as `submit` and `runs` print it)")
    .option("--interval <seconds>", `seconds between polls, at least ${MIN_INTERVAL_SECONDS} (each poll costs 1 to 3 Batch calls)`, String(DEFAULT_INTERVAL_SECONDS))
    .option("--appear-timeout <seconds>", "how long to wait for a run that has no job yet (right after `submit`)", String(DEFAULT_APPEAR_TIMEOUT_SECONDS))
    .option("--json", "print one JSON line per poll that changed something, and one at the end")
    .addHelpText("after", "\nExit code: 0 when the run succeeded, 1 when it failed, 2 when no job of it appeared, 130 on Ctrl-C (the run goes on).")
    .action(setup.action(async (runId: string, opts: WatchOptions) => watchRun(runId, opts, setup)));
}
