/**
 * Following a run until it ends, as `watch RUN` and `submit --watch` do: on a TTY the status screen redrawn
 * in place (cli/app/liveScreen.ts), otherwise one line per change, or with `--json` one JSON line per poll
 * that changed something; at the end the failures and the number of polls and Batch calls.
 *
 * It must not eat the account's Batch API budget (DescribeJobs shares about 50 calls/s with every run's
 * SubmitJob, docs/aws-batch-limits.md): each snapshot is handed to the next `fetchRun`, which describes only
 * jobs not yet finished and lists again only while the DAG may grow. Per poll, at any width (up to 100 jobs
 * a listing and 100 unfinished jobs, else a call per 100 more): the first costs 3 (both queues listed, one
 * DescribeJobs); while a start job is live (all along with `orchestrator.wait`) 2, the process queue listed
 * and one DescribeJobs (`skipStartQueueWhileLive`); the poll that sees a start job stop and those of the
 * next LISTING_SETTLE_MS (60 s) 3, both queues listed; after that 1, one DescribeJobs. Failed tasks are
 * listed once, at the end. A run that has no job yet (the trigger is asynchronous) is looked for again
 * for a while ({@link AppearWait}), each look a read of the run (both queues listed, 2 calls): a run appears
 * with its start job on the start queue or, submitted inline by the trigger (no start job), with its DAG's
 * jobs on the process queue, which the CLI cannot tell apart beforehand. A run found with no start job
 * (inline) costs 2 a poll after the first: its process queue listed on every poll (no start job's end says
 * when its DAG is complete) and one DescribeJobs. A poll that fails for a passing reason (throttled, a 5xx,
 * the network) is tried again, {@link MAX_FAILED_POLLS} times in a row at most.
 */
import type { CliContext } from "../app/context";
import { CLI_EXIT, CliError, isTransientAwsError } from "../app/errors";
import { formatDuration, formatTime, fmtInt, terminalText } from "../app/format";
import { LiveScreen } from "../app/liveScreen";
import { readRun, type RunAccess } from "./access";
import { collectFailures, exitCodeOf, statusJson } from "./failures";
import type { RunSnapshot, RunStep } from "./model";
import { UnknownRunError } from "./read";
import { type JobFailure, countsText, renderFailures, renderStatus } from "./screen";

/** Seconds between polls unless `watch --interval` says otherwise (`submit --watch` too). */
export const DEFAULT_INTERVAL_SECONDS = 15;
/** How long a run with no job yet is waited for by default (`watch`, `submit --watch`): the trigger starts runs asynchronously. */
export const DEFAULT_APPEAR_TIMEOUT_SECONDS = 120;
/** Consecutive polls that may fail (throttled, 5xx, network) before following gives up. */
export const MAX_FAILED_POLLS = 3;

type Tally = { polls: number; calls: number };

/** What a watch shows: each poll's snapshot, then the end (or the interruption). */
interface WatchView {
  update(snapshot: RunSnapshot, tally: Tally): void;
  finish(snapshot: RunSnapshot, failures: readonly JobFailure[], tally: Tally): void;
  interrupted(runId: string, snapshot: RunSnapshot | undefined, tally: Tally): void;
  close(): void;
}

const tallyText = (t: Tally) => `${fmtInt(t.polls)} poll${t.polls === 1 ? "" : "s"}, ${fmtInt(t.calls)} Batch call${t.calls === 1 ? "" : "s"}`;
const took = (s: RunSnapshot) => (s.createdAt !== undefined && s.stoppedAt !== undefined ? ` after ${formatDuration(s.stoppedAt - s.createdAt)}` : "");
const endLine = (s: RunSnapshot, t: Tally) => `run ${s.runId} ${s.state}${took(s)}: ${tallyText(t)}`;
const stopLine = (runId: string, s: RunSnapshot | undefined, t: Tally) =>
  `stopped watching run ${runId}${s ? ` (${s.state})` : ""}; the run goes on (\`batch-pipeline cancel ${runId}\` stops it): ${tallyText(t)}`;


/** TTY: the status screen redrawn in place (cursor up over the last drawing, each line cleared, the rest of the screen cleared). */
function ttyView(ctx: CliContext, intervalMs: number, stack: string): WatchView {
  const live = new LiveScreen(ctx.term, { printsAbove: false });
  const draw = (lines: string[]) => live.draw(lines);
  const screen = (s: RunSnapshot, failures: readonly JobFailure[]) => renderStatus(s, failures, { color: ctx.term.color, columns: ctx.term.columns, now: ctx.now(), stack });
  return {
    update: (s, t) => draw([...screen(s, []), "", ctx.term.color.dim(`every ${intervalMs / 1000}s: ${tallyText(t)} · Ctrl-C stops watching, not the run`)]),
    finish: (s, failures, t) => draw([...screen(s, failures), "", endLine(s, t)]),
    interrupted: (runId, s, t) => ctx.term.out(`${stopLine(runId, s, t)}\n`),
    close: () => live.close(),
  };
}

/** What changed since the last poll: start jobs' states, the run's state, and each step as `shown` shows it. */
function changeTracker(shown: (step: RunStep) => string) {
  const seen = new Map<string, string>();
  const changed = (key: string, value: string) => seen.get(key) !== value && (seen.set(key, value), true);
  return (s: RunSnapshot) => ({
    run: changed("run", s.state),
    starts: s.startJobs.filter((j) => changed(`start ${j.jobId}`, j.status)),
    steps: s.steps.filter((step) => changed(`step ${step.name}`, shown(step))),
  });
}

const stepText = (step: RunStep) => `${step.state.padEnd(9)}  ${fmtInt(step.counts.SUCCEEDED)}/${fmtInt(step.width)} done  ${step.width > 1 ? countsText(step.counts) : ""}`.trimEnd();

/** Not a TTY: one plain line per change, the failures and a summary at the end. */
function plainView(ctx: CliContext, stack: string): WatchView {
  const changes = changeTracker(stepText);
  let first = true;
  const out = (lines: string[]) => lines.length > 0 && ctx.term.out(`${lines.join("\n")}\n`);
  return {
    update: (s) => {
      const at = formatTime(ctx.now());
      const width = Math.max(5, ...s.steps.map((step) => step.name.length));
      const { run, starts, steps } = changes(s);
      const runLine = `${at}  ${"run".padEnd(width)}  ${s.state.padEnd(9)}  ${s.runId}${first && s.input ? ` s3://${s.input.bucket}/${terminalText(s.input.key)}` : ""}`;
      out([
        ...(run && first ? [runLine] : []),
        ...starts.map((j) => `${at}  ${"start".padEnd(width)}  ${j.status.padEnd(9)}  ${j.jobName}`),
        ...steps.map((step) => `${at}  ${step.name.padEnd(width)}  ${stepText(step)}`),
        ...(run && !first ? [runLine] : []),
      ]);
      first = false;
    },
    finish: (s, failures, t) => out([...renderFailures(s, failures, ctx.term.color, stack).slice(1), endLine(s, t)]),
    interrupted: (runId, s, t) => out([stopLine(runId, s, t)]),
    close: () => undefined,
  };
}

/** `--json`: one JSON line per poll that changed something (with the poll's Batch calls), one at the end. */
function jsonView(ctx: CliContext, stack: string): WatchView {
  const changes = changeTracker((step) => `${step.state} ${JSON.stringify(step.counts)}`);
  const line = (value: object) => ctx.term.out(`${JSON.stringify(value)}\n`);
  const nonZero = (counts: object) => Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));
  return {
    update: (s, t) => {
      const { run, starts, steps } = changes(s);
      if (!run && starts.length === 0 && steps.length === 0) return;
      line({
        event: "poll",
        at: new Date(ctx.now()).toISOString(),
        runId: s.runId,
        poll: t.polls,
        calls: s.calls,
        state: s.state,
        startJobs: starts.map((j) => ({ jobId: j.jobId, jobName: j.jobName, status: j.status })),
        steps: steps.map((step) => ({ step: step.name, state: step.state, done: step.counts.SUCCEEDED, width: step.width, counts: nonZero(step.counts) })),
      });
    },
    finish: (s, failures, t) => line({ event: "end", at: new Date(ctx.now()).toISOString(), runId: s.runId, state: s.state, exitCode: exitCodeOf(s), ...t, failures: statusJson(s, failures, stack).failures }),
    interrupted: (runId, s, t) => line({ event: "interrupted", at: new Date(ctx.now()).toISOString(), runId, ...(s ? { state: s.state } : {}), exitCode: CLI_EXIT.interrupted, ...t }),
    close: () => undefined,
  };
}

/** How a run that has no job yet is waited for: the trigger starts a run asynchronously, seconds after the upload. */
export interface AppearWait {
  /** How long at most (0: an unknown run fails at once). */
  timeoutMs: number;
  /** Between two looks. */
  pollMs: number;
  /** Said once on stderr when the first look finds no job. */
  note: string;
  /** The error when no job appeared in time (default: the unknown run's, exit 2). */
  gaveUp?: () => CliError;
}

/** How to follow a run. */
export interface FollowOptions {
  /** Between two polls of a run that has jobs. */
  intervalMs: number;
  appear: AppearWait;
  /** One JSON line per poll that changed something instead of the screen. */
  json: boolean;
}

/**
 * Follows one run until it ends (or Ctrl-C); resolves to the exit code: the run's outcome, 130 when
 * interrupted. `watch RUN` and `submit --watch` both follow a run with it.
 */
export async function followRun(runId: string, base: RunAccess, ctx: CliContext, options: FollowOptions): Promise<number> {
  const { intervalMs, appear } = options;
  let calls = 0;
  const batch = base.deps.batch;
  const access: RunAccess = { ...base, deps: { ...base.deps, batch: { send: ((command: never) => (calls++, batch.send(command))) as typeof batch.send } } };
  const view = options.json ? jsonView(ctx, base.stack) : ctx.term.isTTY ? ttyView(ctx, intervalMs, base.stack) : plainView(ctx, base.stack);
  let polls = 0;
  const summary = () => ({ polls, calls });

  const poll = async (previous?: RunSnapshot): Promise<RunSnapshot | undefined> => {
    const deadline = ctx.now() + appear.timeoutMs;
    for (let failed = 0, told = false; ; ) {
      polls++;
      try {
        return await readRun(runId, access, previous, { skipStartQueueWhileLive: true });
      } catch (error) {
        const unknown = !previous && error instanceof UnknownRunError;
        if (unknown && ctx.now() < deadline) {
          if (!told) ctx.term.err(`${appear.note}\n`);
          told = true;
        } else if (!unknown && isTransientAwsError(error) && ++failed < MAX_FAILED_POLLS) {
          ctx.term.err(`poll ${polls} failed (${(error as Error).message}); trying again in ${intervalMs / 1000}s\n`);
        } else throw unknown && appear.gaveUp ? appear.gaveUp() : error;
        await ctx.sleep(unknown ? Math.min(appear.pollMs, Math.max(0, deadline - ctx.now())) : intervalMs);
        if (ctx.signal.aborted) return undefined;
      }
    }
  };

  try {
    let snapshot = await poll();
    while (snapshot && !ctx.signal.aborted) {
      view.update(snapshot, summary());
      if (snapshot.state === "SUCCEEDED" || snapshot.state === "FAILED") {
        const failures: JobFailure[] = await collectFailures(snapshot, access.deps);
        view.finish(snapshot, failures, summary());
        return exitCodeOf(snapshot);
      }
      await ctx.sleep(intervalMs);
      if (ctx.signal.aborted) break;
      const next = await poll(snapshot);
      if (!next) break;
      snapshot = next;
    }
    view.interrupted(runId, snapshot, summary());
    return CLI_EXIT.interrupted;
  } finally {
    view.close();
  }
}

