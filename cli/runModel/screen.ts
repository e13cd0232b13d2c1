/**
 * The status screen of a run: a header (run, input, times, start jobs), the DAG as a tree of steps with
 * their progress, and every failure with its reason, exit code and the command that shows its log. Pure:
 * `status` prints it once, `watch` redraws it; colour comes in as {@link Colors} (identity when off), so
 * the plain form is the same text without escape codes.
 */
import { runJobNamePrefix, TRIGGER_RETRY_WITHIN_SECONDS } from "../../contract";
import type { Colors } from "../app/context";
import { colorState, fmtInt, formatBytes, formatDuration, formatTime, pad, progressBar, table, terminalText } from "../app/format";
import { type ChildJob } from "./read";
import { groupSteps, type RunJob, type RunSnapshot, type RunState, type RunStep, type StateCounts } from "./model";

/** A job that failed, or an array job with failed children, and the first few of those children. */
export interface JobFailure {
  job: RunJob;
  /** Its failed tasks: failed children of an array job, or 1. */
  failedTasks: number;
  /** The first failed children, described (array jobs whose children were listed). */
  children: ChildJob[];
  /** Whether its children were listed at all (the screen lists a few jobs' children, not every job's). */
  listed: boolean;
}

/** How to draw the screen. */
export interface ViewOptions {
  color: Colors;
  /** Terminal width: the progress bars grow on wide terminals. */
  columns: number;
  /** For the duration of what is still running. */
  now: number;
  /** The stack, named in the `logs` commands shown so they can be pasted as they are. */
  stack?: string;
}

/** The command that prints a task's log (`batch-pipeline logs`). */
export function logsCommand(runId: string, step: string, task?: number, stack?: string): string {
  return `batch-pipeline logs ${runId}${stack === undefined ? "" : ` --stack ${stack}`} --step ${step}${task === undefined ? "" : ` --task ${task}`}`;
}

/** `process[17]`, `merge`, `start`: a task as `logs` prefixes its lines and a local run names it. */
export const labelOf = (source: { step: string; task?: number }) => (source.task !== undefined ? `${source.step}[${source.task}]` : source.step);

/**
 * The command that prints a failed plain job's log: a start job's, or a task job's (a plain job is its
 * step's only task). Barrier jobs run `true` and have nothing to say.
 */
export function jobLogsCommand(job: RunJob, runId: string, stack?: string): string | undefined {
  if (job.kind === "barrier" || job.array || (job.attempts === 0 && job.logStreamName === undefined)) return undefined;
  return logsCommand(runId, job.kind === "start" ? "start" : job.step, undefined, stack);
}

/** A job's name without the run id (the planner's id: `process-p3`, `merge-b1-0`). */
export function shortName(job: RunJob, runId: string): string {
  return job.jobName.startsWith(runJobNamePrefix(runId)) ? job.jobName.slice(runJobNamePrefix(runId).length) : job.jobName;
}

/** `1,468 running · 3 failed · 84,792 runnable`: where a step's unfinished tasks are. */
export function countsText(counts: StateCounts): string {
  const parts: [number, string][] = [
    [counts.RUNNING + counts.STARTING, "running"],
    [counts.FAILED, "failed"],
    [counts.CANCELLED ?? 0, "cancelled"],
    [counts.RUNNABLE, "runnable"],
    [counts.SUBMITTED + counts.PENDING, "pending"],
    [counts.NOT_RUN ?? 0, "not run"],
  ];
  return parts
    .filter(([n]) => n > 0)
    .map(([n, what]) => `${fmtInt(n)} ${what}`)
    .join(" · ");
}

/** What a set of jobs of one step is doing, in the words steps use (an array parent says PENDING while its children run). */
export const stateOfJobs = (jobs: readonly RunJob[]): RunState => groupSteps(jobs)[0]?.state ?? "WAITING";

const spanOf = (start: number | undefined, stop: number | undefined, now: number) => (start === undefined ? "" : formatDuration((stop ?? now) - start));

function taskRange(jobs: readonly RunJob[]): string {
  const first = jobs[0]!.taskOffset;
  const last = jobs.at(-1)!.taskOffset + jobs.at(-1)!.taskCount - 1;
  return first === last ? `task ${fmtInt(first)}` : `tasks ${fmtInt(first)}–${fmtInt(last)}`;
}

/**
 * A step's jobs as leaves: consecutive jobs in one and the same state (all done, all waiting) become one
 * line, and a step of a hundred jobs shows its ends, like `renderPlanTree` does.
 */
function leafRows(step: RunStep, runId: string, c: Colors): string[][] {
  const groups: RunJob[][] = [];
  const uniform = (job: RunJob) => {
    const states = Object.entries(job.counts).filter(([, n]) => n > 0);
    return states.length === 1 ? states[0]![0] : undefined;
  };
  for (const job of step.jobs) {
    const last = groups.at(-1);
    if (last && uniform(job) !== undefined && uniform(job) === uniform(last[0]!)) last.push(job);
    else groups.push([job]);
  }
  const split = groups.flatMap((g) => (g.length >= 3 ? [g] : g.map((j) => [j])));
  let rows = split.map((jobs) => {
    // Under its step a job is named by its planner id without the step: `p3`, `b1-0`.
    const id = (job: RunJob) => shortName(job, runId).replace(`${step.name}-`, "");
    const name = jobs.length === 1 ? id(jobs[0]!) : `${id(jobs[0]!)} … ${id(jobs.at(-1)!)}`;
    const counts = groupSteps(jobs)[0]!.counts;
    const total = jobs.reduce((n, j) => n + j.taskCount, 0);
    return [name, taskRange(jobs), colorState(stateOfJobs(jobs), c), `${fmtInt(counts.SUCCEEDED)}/${fmtInt(total)}`, countsText(counts)];
  });
  if (rows.length > 7) rows = [...rows.slice(0, 3), [c.dim(`… ${rows.length - 6} more lines like these …`), "", "", "", ""], ...rows.slice(-3)];
  if (step.barriers.length > 0) {
    rows.push([`${step.barriers.length} barrier job${step.barriers.length === 1 ? "" : "s"}`, "", colorState(stateOfJobs(step.barriers), c), "", ""]);
  }
  return rows;
}

function stepLines(snapshot: RunSnapshot, o: ViewOptions): string[] {
  const c = o.color;
  const barWidth = Math.max(10, Math.min(30, o.columns - 60));
  const done = (step: RunStep) => `${fmtInt(step.counts.SUCCEEDED)}/${fmtInt(step.width)}`;
  const nameWidth = Math.max(...snapshot.steps.map((s) => s.name.length));
  const stateWidth = Math.max(...snapshot.steps.map((s) => s.state.length));
  const doneWidth = Math.max(...snapshot.steps.map((s) => done(s).length));
  const lines: string[] = [];
  snapshot.steps.forEach((step, s) => {
    const last = s === snapshot.steps.length - 1;
    const parts = { done: step.counts.SUCCEEDED, failed: step.counts.FAILED, running: step.counts.RUNNING + step.counts.STARTING };
    const bar = progressBar(parts, step.width, barWidth, c);
    lines.push(`${last ? "└─" : "├─"} ${pad(step.name, nameWidth)}  ${pad(colorState(step.state, c), stateWidth)}  ${done(step).padStart(doneWidth)}  ${bar}  ${spanOf(step.startedAt, step.stoppedAt, o.now)}`.trimEnd());
    const stem = last ? "   " : "│  ";
    const leaves = step.jobs.length > 1 || step.barriers.length > 0 ? table(leafRows(step, snapshot.runId, c)) : [];
    const counts = countsText(step.counts);
    if (counts && step.width > 1 && step.state !== "SUCCEEDED") lines.push(`${stem}${leaves.length > 0 ? "│" : " "}${" ".repeat(nameWidth + 1)}${counts}`);
    leaves.forEach((leaf, j) => lines.push(`${stem}${j === leaves.length - 1 ? "└─" : "├─"} ${leaf}`.trimEnd()));
  });
  return lines;
}

/** The `failed` section of the screen: each failure's reason, exit code and log command (none: no lines). */
export function renderFailures(snapshot: RunSnapshot, failures: readonly JobFailure[], c: Colors, stack?: string): string[] {
  if (failures.length === 0) return [];
  const lines = ["", c.bold(c.red("failed"))];
  const stepOf = new Map(snapshot.steps.map((s) => [s.name, s]));
  for (const f of failures) {
    const { job } = f;
    const exit = (code: number | undefined) => (code === undefined ? "no exit code" : `exit ${code}`);
    const attempts = (n: number) => (n > 1 ? ` (${n} attempts)` : "");
    const logs = jobLogsCommand(job, snapshot.runId, stack);
    if (!job.array) {
      const name = job.kind === "start" ? `start job ${job.jobName}` : (stepOf.get(job.step)?.jobs.length ?? 1) > 1 || job.kind === "barrier" ? shortName(job, snapshot.runId) : job.step;
      if (job.startedAt === undefined && logs === undefined) lines.push(`  ${name}: ${terminalText(job.statusReason ?? "FAILED")} (never ran)`);
      else lines.push(`  ${name}: ${exit(job.exitCode)}  ${terminalText(job.statusReason ?? "")}${attempts(job.attempts)}`.trimEnd());
      if (logs) lines.push(`    ${logs}`);
    } else {
      const single = (stepOf.get(job.step)?.jobs.length ?? 1) === 1;
      const name = single ? job.step : `${shortName(job, snapshot.runId)} (${taskRange([job])})`;
      if (job.spawned === 0) {
        lines.push(`  ${name}: ${terminalText(job.statusReason ?? "FAILED")} (never ran)`);
        continue;
      }
      lines.push(`  ${name}: ${fmtInt(f.failedTasks)} of ${fmtInt(job.taskCount)} tasks failed`);
      const rows = f.children.map((child) => [`task ${fmtInt(job.taskOffset + child.index)}`, exit(child.exitCode), `${terminalText(child.statusReason ?? "")}${attempts(child.attempts)}`]);
      table(rows).forEach((row, k) => {
        lines.push(`    ${row}`);
        lines.push(`      ${logsCommand(snapshot.runId, job.step, job.taskOffset + f.children[k]!.index, stack)}`);
      });
      const more = f.failedTasks - f.children.length;
      if (more > 0) lines.push(c.dim(`    … ${fmtInt(more)} ${f.children.length > 0 ? "more " : ""}failed: aws batch list-jobs --array-job-id ${job.jobId} --job-status FAILED`));
    }
  }
  return lines;
}

/** The status screen of `snapshot` as lines (no trailing newline). */
export function renderStatus(snapshot: RunSnapshot, failures: readonly JobFailure[], o: ViewOptions): string[] {
  const c = o.color;
  const tasks = snapshot.steps.reduce((n, s) => n + s.width, 0);
  const done = snapshot.steps.reduce((n, s) => n + s.counts.SUCCEEDED, 0);
  const failed = snapshot.steps.reduce((n, s) => n + s.counts.FAILED, 0);
  const cancelled = snapshot.steps.reduce((n, s) => n + (s.counts.CANCELLED ?? 0), 0);
  const progress = tasks > 0 ? `  ${fmtInt(done)}/${fmtInt(tasks)} tasks done${failed > 0 ? `, ${fmtInt(failed)} failed` : ""}${cancelled > 0 ? `, ${fmtInt(cancelled)} cancelled` : ""}` : "";
  const lines = [`${c.bold(`run ${snapshot.runId}`)}  ${colorState(snapshot.state, c)}${progress}`];
  const input = snapshot.input;
  if (input) {
    // From a job's environment (any job named like the run's, with no start job): escaped, as the key is.
    lines.push(`input    ${terminalText(`s3://${input.bucket}/${input.key}`)}`);
    const size = input.sizeBytes === undefined ? "size unknown" : `${formatBytes(input.sizeBytes)} (${fmtInt(input.sizeBytes)} bytes)`;
    lines.push(`         ${size}, ${input.versionId ? `version ${terminalText(input.versionId)}` : "unversioned"}`);
  }
  if (snapshot.createdAt !== undefined) {
    const when = snapshot.stoppedAt !== undefined ? `took ${formatDuration(snapshot.stoppedAt - snapshot.createdAt)}, ended ${formatTime(snapshot.stoppedAt)}` : `${formatDuration(o.now - snapshot.createdAt)} ago`;
    lines.push(`started  ${formatTime(snapshot.createdAt)}, ${when}`);
  }
  const starts = table(snapshot.startJobs.map((s) => [s.jobName, colorState(s.status, c), spanOf(s.startedAt ?? s.createdAt, s.stoppedAt, o.now), s.attempts > 1 ? `attempt ${s.attempts}` : ""]));
  starts.forEach((row, k) => lines.push(`${k === 0 ? (snapshot.startJobs.length > 1 ? "starts  " : "start   ") : "        "} ${row}`));
  if (snapshot.startJobs.length > 1) lines.push(c.dim(`         ${snapshot.startJobs.length} start jobs for one object version (a repeated S3 event); only one submits the DAG`));
  if (snapshot.supersededIds.length > 0) {
    const n = snapshot.supersededIds.length;
    lines.push(c.dim(`         ${n} job${n === 1 ? "" : "s"} of an earlier attempt, replaced (not counted)`));
  }
  lines.push("");
  const submitter = snapshot.startJobs.length > 0 ? "the start job" : "the trigger";
  if (snapshot.steps.length === 0) lines.push(c.dim(snapshot.state === "SUBMITTING" ? `no DAG jobs listed yet: ${submitter} is planning and submitting them` : `no DAG jobs: ${submitter} submitted none`));
  else {
    lines.push(...stepLines(snapshot, o));
    // A run the trigger submits inline whose attempt failed: its jobs were withdrawn, and Lambda retries it (model.ts).
    if (snapshot.state === "SUBMITTING" && snapshot.startJobs.length === 0) {
      lines.push(c.dim(`the trigger withdrew these jobs (its attempt to submit the run failed) and submits the run again when Lambda retries it, within ${formatDuration(TRIGGER_RETRY_WITHIN_SECONDS * 1000)}`));
    }
  }
  lines.push(...renderFailures(snapshot, failures, c, o.stack));
  return lines;
}
