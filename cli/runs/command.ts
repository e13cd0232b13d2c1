/**
 * `batch-pipeline runs`: the recent runs of the stack, one line each (run id, start, duration, tasks done
 * and failed of the total, state, input key), newest first, found from the start queue (runs with a start job)
 * and the process queue (runs the trigger submitted inline, with no start job): cli/runs/list.ts. `--json`
 * rows also say which (`orchestrator`). Batch lists finished jobs only for a while, so a `--since` longer
 * than a day says where older runs are.
 */
import type { Command } from "commander";
import { CLI_EXIT, CliError, awsCall } from "../app/errors";
import { colorState, fmtInt, formatDuration, formatTime, parseSince, table, terminalText } from "../app/format";
import type { CommandSetup } from "../app/setup";
import { BATCH_HISTORY_NOTE } from "../runModel/read";
import { RUN_OUTCOMES, type RunOutcome, recentRuns } from "./list";
import { runAccess } from "../runModel/access";

/** Runs shown unless `--limit` says otherwise. */
export const DEFAULT_RUNS_LIMIT = 50;
/** The most `--limit` allows: each run shown costs a few Batch calls. */
export const MAX_RUNS_LIMIT = 1000;
const DAY_MS = 86_400_000;

interface RunsOptions {
  since: string;
  status?: string;
  limit: string;
  json?: boolean;
}

function parseOptions(opts: RunsOptions): { sinceMs: number; outcome?: RunOutcome; limit: number } {
  const sinceMs = parseSince(opts.since);
  if (sinceMs === undefined) throw new CliError(`--since ${opts.since}: must be a whole number and a unit, m (minutes), h (hours), d (days) or w (weeks), e.g. --since 90m or --since 7d`);
  if (opts.status !== undefined && !Object.hasOwn(RUN_OUTCOMES, opts.status)) {
    throw new CliError(`--status ${opts.status}: must be one of ${Object.keys(RUN_OUTCOMES).join(", ")}`);
  }
  const limit = Number(opts.limit);
  if (!/^\d+$/.test(opts.limit) || limit < 1 || limit > MAX_RUNS_LIMIT) throw new CliError(`--limit ${opts.limit}: must be a whole number from 1 to ${MAX_RUNS_LIMIT}`);
  return { sinceMs, ...(opts.status !== undefined ? { outcome: opts.status as RunOutcome } : {}), limit };
}

/** Registers `runs [--since D] [--status S] [--limit N] [--json]`. */
export function runsCommand(program: Command, setup: CommandSetup): void {
  program
    .command("runs")
    .description("list recent runs, newest first: run id, start, duration, tasks done and failed, state, input; runs the trigger submitted inline (no start job, orchestrator.mode inline or auto) are read from the process queue (--json: \"orchestrator\": \"inline\")")
    .option("--since <duration>", "runs begun in this last while: a number and m, h, d or w", "24h")
    .option("--status <outcome>", `only runs that ${Object.keys(RUN_OUTCOMES).join(", ")}`)
    .option("--limit <n>", `at most this many runs (each costs a few Batch calls; at most ${MAX_RUNS_LIMIT})`, String(DEFAULT_RUNS_LIMIT))
    .option("--json", "print the runs as one JSON array")
    .action(
      setup.action(async (opts: RunsOptions) => {
        const { ctx } = setup;
        const { sinceMs, outcome, limit } = parseOptions(opts);
        const access = await runAccess(setup);
        const now = ctx.now();
        const after = now - sinceMs;
        const found = await awsCall("Batch ListJobs/DescribeJobs", () => recentRuns(access.outputs, access.deps, { after, limit, ...(outcome ? { outcome } : {}) }));
        const c = ctx.term.color;
        const notes: string[] = [];
        if (found.more) notes.push(`showing the newest ${fmtInt(limit)}; --limit shows more`);
        if (sinceMs > DAY_MS) {
          notes.push(`${BATCH_HISTORY_NOTE}, so older runs may be missing here; every job state change stays in CloudWatch Logs group ${access.outputs.jobStateLogGroup}`);
        }
        if (opts.json) {
          const rows = found.runs.map((r) => ({ ...r, durationMs: (r.stoppedAt ?? now) - r.createdAt }));
          ctx.term.out(`${JSON.stringify(rows)}\n`);
          for (const note of notes) ctx.term.err(`${note}\n`);
          return CLI_EXIT.ok;
        }
        const which = outcome ? `${outcome} ` : "";
        const window = `since ${formatTime(after)} (--since ${opts.since})`;
        const { startQueueArn, processQueueArn } = access.outputs;
        const queues = startQueueArn === processQueueArn ? startQueueArn : `${startQueueArn} or ${processQueueArn}`;
        if (found.runs.length === 0) ctx.term.out(`no ${which}runs ${window} on ${queues}\n`);
        else {
          const rows = found.runs.map((r) => [
            r.runId,
            formatTime(r.createdAt),
            formatDuration((r.stoppedAt ?? now) - r.createdAt),
            r.tasks.total > 0 ? `${fmtInt(r.tasks.done)}/${fmtInt(r.tasks.total)}` : "–",
            r.tasks.failed > 0 ? c.red(fmtInt(r.tasks.failed)) : "0",
            colorState(r.state, c),
            r.key === undefined ? "?" : terminalText(r.key),
          ]);
          const lines = table([["RUN", "STARTED", "DURATION", "DONE", "FAILED", "STATE", "INPUT"].map((h) => c.dim(h)), ...rows]);
          ctx.term.out(`${lines.join("\n")}\n`);
          const inline = found.runs.filter((r) => r.orchestrator === "inline").length;
          const inlineNote = inline > 0 ? `; ${fmtInt(inline)} with no start job (submitted inline by the trigger)` : "";
          notes.unshift(`${fmtInt(found.runs.length)} ${which}run${found.runs.length === 1 ? "" : "s"} ${window}, newest first${inlineNote}; ${fmtInt(found.calls)} Batch calls`);
        }
        for (const note of notes) ctx.term.out(`${c.dim(note)}\n`);
        return CLI_EXIT.ok;
      }),
    );
}
