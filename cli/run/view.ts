/**
 * What `batch-pipeline run` shows while it runs. A TTY gets the status screen (cli/run/screen.ts)
 * redrawn in place (cli/app/liveScreen.ts, as `watch` redraws it) at most every {@link REDRAW_MS} and at least every
 * {@link TICK_MS} (so the time a running step has taken keeps counting between task events), `--follow`
 * lines printed above it; anything else gets the DAG once, then one plain line per change (a step's state, each tenth of a
 * wide step, a failed attempt) and the final screen; `--json` one JSON line per event. Every view ends
 * with the summary.
 */
import type { CliContext } from "../app/context";
import { CLI_EXIT } from "../app/errors";
import { pad, terminalText } from "../app/format";
import { LiveScreen } from "../app/liveScreen";
import type { RunSnapshot, RunState } from "../runModel/model";
import type { JobFailure } from "../runModel/screen";
import type { Clock } from "./executor";
import type { LocalRunModel, LocalStep, LocalTask } from "./model";
import type { StoppedTask, TaskEvent } from "./scheduler";
import { attemptText, elapsed, labelWidth, renderLocal, type RunPlace, stepText, summaryLines, taskLabel } from "./screen";
import { stepState, type RunSummary } from "./snapshot";

/** The TTY screen's fastest redraw. */
export const REDRAW_MS = 100;
/** The TTY screen's slowest redraw while the run goes on: running steps' durations tick once a second. */
export const TICK_MS = 1000;
/** Failed attempts printed one by one (plain view); the rest are in the failure list at the end. */
export const FAILED_ATTEMPT_LINES = 20;

/** How the run ended, for the views. */
export interface RunEnd {
  state: "SUCCEEDED" | "FAILED" | "INTERRUPTED";
  /** The run at its end (after Ctrl-C: INTERRUPTED, its stopped tasks CANCELLED, steps never started NOT RUN). */
  snapshot: RunSnapshot;
  failures: readonly JobFailure[];
  summary: RunSummary;
  exitCode: number;
  stopped: readonly StoppedTask[];
}

/** A way of showing a run: told when it begins, of every task event and printed line, and how it ended. */
export interface LocalView {
  begin(snapshot: RunSnapshot): void;
  event(task: LocalTask, event: TaskEvent): void;
  /** A line a task printed (`--follow`). */
  log(task: LocalTask, line: string): void;
  end(end: RunEnd): void;
  close(): void;
}

/** What every view draws from. */
export interface ViewContext {
  ctx: CliContext;
  model: LocalRunModel;
  place: RunPlace;
  startedAt: number;
  /** The time every view shows and the timers of the TTY's redraws (a test's moves only when told). */
  clock: Clock;
  /** The snapshot of this moment (O(jobs)), for redraws. */
  snapshot(): RunSnapshot;
}

const stoppedLine = (stopped: readonly StoppedTask[], neverStarted: number) =>
  `interrupted: stopped ${stopped.length} running task${stopped.length === 1 ? "" : "s"}${stopped.length > 0 ? ` (${stopped.map((s) => `${taskLabel(s.task)} ${s.what}`).join(", ")})` : ""}; ${neverStarted} task${neverStarted === 1 ? "" : "s"} never started`;

const neverStarted = (model: LocalRunModel) => model.jobs.reduce((n, j) => n + j.tasks.filter((t) => t.attempts === 0).length, 0);

function endLines(v: ViewContext, end: RunEnd): string[] {
  const state = end.state === "INTERRUPTED" ? "INTERRUPTED" : end.snapshot.state;
  return [...(end.state === "INTERRUPTED" ? [stoppedLine(end.stopped, neverStarted(v.model))] : []), ...summaryLines(v.model.plan.runId, state, end.summary, v.place)];
}

/** Not a TTY: the DAG, one line per change, the final screen and the summary. */
export function plainView(v: ViewContext): LocalView {
  const { ctx } = v;
  const out = (lines: string[]) => lines.length > 0 && ctx.term.out(`${lines.join("\n")}\n`);
  const width = labelWidth(v.model.steps);
  const seen = new Map<LocalStep, { state: RunState; tenth: number }>();
  let failedLines = 0;
  const at = () => elapsed(v.clock.now() - v.startedAt).padStart(7);
  const line = (label: string, text: string) => `${at()}  ${pad(label, width)}  ${text}`;
  return {
    begin: (s) => out([...renderLocal(s, [], v.place, { color: ctx.term.color, columns: ctx.term.columns, now: v.clock.now() }), ""]),
    event: (task, event) => {
      const lines: string[] = [];
      if (event === "retrying" || (event === "failed" && task.attempts > 0)) {
        if (failedLines < FAILED_ATTEMPT_LINES) lines.push(line(taskLabel(task), attemptText(task, event === "retrying")));
        else if (failedLines === FAILED_ATTEMPT_LINES) lines.push(line("…", "more failed attempts are not printed one by one: the failures are listed at the end"));
        failedLines++;
      }
      const step = task.job.step;
      const state = stepState(step);
      const tenth = Math.floor(((step.counts.SUCCEEDED + step.counts.FAILED) * 10) / step.width);
      const last = seen.get(step);
      if (!last || last.state !== state || (step.width > 1 && tenth > last.tenth)) {
        seen.set(step, { state, tenth });
        lines.push(line(step.name, stepText(step, state)));
      }
      out(lines);
    },
    log: (task, text) => out([`${pad(taskLabel(task), width)}  ${terminalText(text)}`]),
    end: (end) => out(["", ...renderLocal(end.snapshot, end.failures, v.place, { color: ctx.term.color, columns: ctx.term.columns, now: v.clock.now() }), "", ...endLines(v, end)]),
    close: () => undefined,
  };
}



/** A TTY: the screen redrawn in place; `--follow` lines go above it. */
export function ttyView(v: ViewContext): LocalView {
  const { ctx } = v;
  const width = labelWidth(v.model.steps);
  const live = new LiveScreen(ctx.term, { printsAbove: true });
  let cancelSoon: (() => void) | undefined;
  let cancelTick: (() => void) | undefined;
  let pendingLogs: string[] = [];
  // Live drawings are cut to the terminal's width (a wrapped line would break the next redraw); the
  // last one stays on the screen, whole.
  const draw = (lines: string[], fit = true) => {
    live.draw(lines, { above: pendingLogs, fit });
    pendingLogs = [];
  };
  const screen = (s: RunSnapshot, failures: readonly JobFailure[]) => renderLocal(s, failures, v.place, { color: ctx.term.color, columns: ctx.term.columns, now: v.clock.now() });
  const stopTimers = () => {
    cancelSoon?.();
    cancelTick?.();
    cancelSoon = cancelTick = undefined;
  };
  // Every drawing restarts the tick: between task events the screen is still redrawn each TICK_MS.
  const redraw = () => {
    stopTimers();
    draw([...screen(v.snapshot(), []), "", ctx.term.color.dim("Ctrl-C stops the run and every task it started")]);
    cancelTick = v.clock.setTimer(TICK_MS, redraw);
  };
  const soon = () => void (cancelSoon ??= v.clock.setTimer(REDRAW_MS, redraw));
  return {
    begin: () => redraw(),
    event: soon,
    log: (task, text) => {
      pendingLogs.push(`${ctx.term.color.cyan(pad(taskLabel(task), width))}  ${terminalText(text)}`);
      soon();
    },
    end: (end) => {
      stopTimers();
      draw([...screen(end.snapshot, end.failures), "", ...endLines(v, end)], false);
    },
    close: () => {
      stopTimers();
      live.close();
    },
  };
}

/** `--json`: one JSON line per event (`start`, `task`, `step`, `log`, `end`). */
export function jsonView(v: ViewContext): LocalView {
  const { ctx } = v;
  const emit = (value: object) => ctx.term.out(`${JSON.stringify({ at: new Date(v.clock.now()).toISOString(), ...value })}\n`);
  const seen = new Map<LocalStep, RunState>();
  const task = (t: LocalTask) => ({ step: t.job.step.name, task: t.number, jobId: t.jobId });
  return {
    begin: (s) =>
      emit({
        event: "start",
        runId: s.runId,
        input: s.input,
        config: v.place.config.stack === undefined ? { stack: null, stacks: v.place.config.stacks } : v.place.config,
        file: v.place.file,
        runDir: v.place.runDir,
        executor: v.place.executor,
        maxTasks: v.place.maxTasks,
        steps: v.model.steps.map((step) => ({ step: step.name, width: step.width, jobs: step.jobs.length, barriers: step.barriers.length })),
        tasks: v.model.taskCount,
      }),
    event: (t, event) => {
      if (event !== "started") {
        emit({ event: "task", ...task(t), status: event === "retrying" ? "RETRYING" : t.status, attempts: t.attempts, ...(t.exitCode !== undefined ? { exitCode: t.exitCode } : {}), ...(t.statusReason && event !== "succeeded" ? { statusReason: t.statusReason } : {}) });
      }
      const step = t.job.step;
      const state = stepState(step);
      if (seen.get(step) !== state) {
        seen.set(step, state);
        emit({ event: "step", step: step.name, state, done: step.counts.SUCCEEDED, failed: step.counts.FAILED, width: step.width });
      }
    },
    log: (t, message) => emit({ event: "log", ...task(t), message }),
    end: (end) =>
      emit({
        event: "end",
        runId: v.model.plan.runId,
        state: end.state,
        exitCode: end.exitCode,
        ...end.summary,
        ...(end.state === "INTERRUPTED" ? { stopped: end.stopped.map((s) => ({ ...task(s.task), what: s.what })) } : {}),
        failures: end.failures.map((f) => ({ jobId: f.job.jobId, step: f.job.step, status: f.job.status, statusReason: f.job.statusReason, failedTasks: f.failedTasks, tasks: f.children.map((c) => ({ task: f.job.taskOffset + c.index, exitCode: c.exitCode, statusReason: c.statusReason, attempts: c.attempts })) })),
      }),
    close: () => undefined,
  };
}

/** The exit code of a run's end: 0 all succeeded, 1 a task failed, 130 interrupted. */
export const exitCodeOfRun = (state: RunEnd["state"]) => (state === "SUCCEEDED" ? CLI_EXIT.ok : state === "FAILED" ? CLI_EXIT.failed : CLI_EXIT.interrupted);
