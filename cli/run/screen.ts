/**
 * The text of a local run's screen, pure: the status screen of cli/runModel/screen.ts for the local snapshot
 * (the same DAG, bars and failures as `status`), with where the file, the output and the logs are, log
 * files instead of `batch-pipeline logs` commands (a local run has no CloudWatch streams), one-line
 * progress of a step, and the summary at the end.
 */
import { LOCAL_TASK_ENV } from "../../contract";
import { relative } from "node:path";
import type { ConfigSource } from "../stack/target";
import type { Colors } from "../app/context";
import { fmtInt, formatBytes, formatDuration, terminalText } from "../app/format";
import type { RunSnapshot, RunState } from "../runModel/model";
import { countsText, type JobFailure, labelOf, renderStatus } from "../runModel/screen";
import type { LocalStep, LocalTask } from "./model";
import type { RunSummary } from "./snapshot";
import { logsDir } from "./taskLogs";

/** Where the run is, what runs it and which config it runs, for the header. */
export interface RunPlace {
  cwd: string;
  config: ConfigSource;
  file: string;
  runDir: string;
  outputDir: string;
  executor: string;
  maxTasks: number;
  cpus: number;
  memoryMiB: number;
}

/** A path as the user would type it: relative to the working directory when under it. */
export function shown(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel !== "" && !rel.startsWith("..") ? rel : path;
}

/** `process[17]`, or `merge` for a step of one task (as `batch-pipeline logs` prefixes lines). */
export const taskLabel = (task: LocalTask) => labelOf({ step: task.job.step.name, ...(task.job.step.width > 1 ? { task: task.number } : {}) });

/** The widest task label of a run (`process[9999]`), to line up `--follow` and progress lines. */
export const labelWidth = (steps: readonly LocalStep[]) => Math.max(...steps.map((s) => (s.width > 1 ? `${s.name}[${s.width - 1}]` : s.name).length));

/** `+12.3s`: time since the run started. */
export const elapsed = (ms: number) => `+${(Math.max(0, ms) / 1000).toFixed(1)}s`;

/** `stack dev (Pulumi.dev.yaml)`, or `the defaults (no --stack; stacks here: dev, prod)`. */
export function configText(source: ConfigSource, cwd: string): string {
  if (source.stack === undefined) return `the defaults (no --stack; ${source.stacks.length > 0 ? `stacks here: ${source.stacks.join(", ")}` : "no stack files here"})`;
  return `stack ${source.stack} (${shown(source.file, cwd)}${source.chosenBy === "--stack" ? "" : `, from ${source.chosenBy}`})`;
}

function placeLines(p: RunPlace): string[] {
  return [
    `config   ${configText(p.config, p.cwd)}`,
    `file     ${terminalText(shown(p.file, p.cwd))} (${LOCAL_TASK_ENV.inputPath})`,
    `output   ${shown(p.outputDir, p.cwd)} (${LOCAL_TASK_ENV.outputDir}), logs in ${shown(logsDir(p.runDir), p.cwd)}/<step>/<task>.log`,
    `runs on  ${p.executor} executor: at most ${fmtInt(p.maxTasks)} task${p.maxTasks === 1 ? "" : "s"} at once, ${fmtInt(p.cpus)} CPUs, ${formatBytes(p.memoryMiB * 2 ** 20)}`,
  ];
}

/** Failure lines with each `batch-pipeline logs` command replaced by the task's log file. */
function localizeLogs(lines: string[], snapshot: RunSnapshot, p: RunPlace): string[] {
  const logs = shown(logsDir(p.runDir), p.cwd);
  const command = new RegExp(`batch-pipeline logs ${snapshot.runId} --step (\\S+)(?: --task (\\d+))?$`);
  const stepOf = new Map(snapshot.jobs.map((j) => [j.jobId, j.step]));
  const listJobs = /aws batch list-jobs --array-job-id (\S+) --job-status FAILED/;
  return lines.map((line) =>
    line
      .replace(command, (_, step: string, task?: string) => `${logs}/${step}/${task ?? 0}.log`)
      .replace(listJobs, (_, jobId: string) => `their logs are in ${logs}/${stepOf.get(jobId) ?? "?"}/`),
  );
}

/** The status screen of the local run: `status`'s, with the local places after the input. */
export function renderLocal(snapshot: RunSnapshot, failures: readonly JobFailure[], p: RunPlace, o: { color: Colors; columns: number; now: number }): string[] {
  const lines = localizeLogs(renderStatus(snapshot, failures, o), snapshot, p);
  const blank = lines.indexOf("");
  lines.splice(blank < 0 ? lines.length : blank, 0, ...placeLines(p));
  return lines;
}

/** A step's progress in one line, as `watch` prints it: `RUNNING    2/3 done  1 running`. */
export function stepText(step: LocalStep, state: RunState): string {
  return `${state.padEnd(9)}  ${fmtInt(step.counts.SUCCEEDED)}/${fmtInt(step.width)} done  ${step.width > 1 ? countsText(step.counts) : ""}`.trimEnd();
}

const plural = (n: number, what: string) => `${fmtInt(n)} ${what}${n === 1 ? "" : "s"}`;

/** A failed attempt in one line: `exit 3, attempt 1 of 3: retrying` or `FAILED exit 1 (reason) after 3 attempts`. */
export function attemptText(task: LocalTask, retrying: boolean): string {
  const exit = task.exitCode === undefined ? (task.reason ?? "no exit code") : `exit ${task.exitCode}`;
  const attempts = task.job.definition?.retryStrategy.attempts ?? 1;
  if (retrying) return `${exit}, attempt ${task.attempts} of ${attempts} failed (${task.statusReason}): retrying`;
  return `FAILED ${exit} (${task.statusReason}) after ${plural(task.attempts, "attempt")}`;
}

/**
 * The summary at the end: outcome, wall time, tasks run, failed, retried, the slowest step, where the
 * output is; after Ctrl-C, that it stopped the run, and the tasks it cancelled and kept from running.
 */
export function summaryLines(runId: string, state: string, s: RunSummary, p: RunPlace): string[] {
  const interrupted = state === "INTERRUPTED";
  const run = `${s.run === s.tasks ? `${plural(s.tasks, "task")} run` : `${fmtInt(s.run)} of ${plural(s.tasks, "task")} run`}${interrupted ? `, ${fmtInt(s.cancelled)} cancelled` : ""}`;
  const failed = `${fmtInt(s.failed)} failed${s.neverRan > 0 ? ` (${fmtInt(s.neverRan)} never ran: a dependency failed)` : ""}`;
  const retried = `${fmtInt(s.retried)} retried${s.extraAttempts > 0 ? ` (${plural(s.extraAttempts, "more attempt")})` : ""}`;
  const notRun = s.notRun > 0 ? `, ${fmtInt(s.notRun)} not run` : "";
  const slowest = s.slowest ? `; slowest step ${s.slowest.step} (${formatDuration(s.slowest.ms)})` : "";
  const outcome = interrupted ? `${state} by Ctrl-C after` : `${state} in`;
  return [`run ${runId} ${outcome} ${formatDuration(s.wallMs)}: ${run}, ${failed}${notRun}, ${retried}${slowest}`, `output and logs: ${shown(p.runDir, p.cwd)}/`];
}
