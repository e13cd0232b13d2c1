/**
 * The run model: what a run's jobs, as DescribeJobs returns them, mean — each job's step, tasks and state
 * counts (array children from the parent's `statusSummary`), the newest job of each name (an earlier start
 * attempt's jobs lose), steps in the planner's order, and the run's state. Pure: cli/runModel/read.ts reads the
 * jobs from Batch.
 */
import type { JobDetail, JobStatus } from "@aws-sdk/client-batch";
import { START_JOB_ENV, TASK_ENV, TRIGGER_RETRY_WITHIN_SECONDS } from "../../contract";
import { isTerminal } from "../../batch/calls";
import { isRolledBack } from "../../batch/attempts";
import { STEP_NAME_PATTERN } from "../../workflow/spec";

/** Every job state, in the order a job passes through them. */
export const JOB_STATES: readonly JobStatus[] = ["SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED"];

/**
 * Tasks per state. A local run stopped by Ctrl-C (`batch-pipeline run`) also counts the tasks it stopped
 * (CANCELLED) and, at its end, those it never started (NOT_RUN): states Batch has not, never set for AWS.
 */
export type StateCounts = Record<JobStatus, number> & { CANCELLED?: number; NOT_RUN?: number };

export const zeroCounts = (): StateCounts => Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as StateCounts;

/** One job of a run. */
export interface RunJob {
  jobId: string;
  jobName: string;
  kind: "start" | "task" | "barrier";
  /** The step the job runs (a barrier: the step it fans in for); `start` for start jobs. */
  step: string;
  status: JobStatus;
  statusReason?: string;
  createdAt?: number;
  startedAt?: number;
  stoppedAt?: number;
  /** Index of the job's first task within its step (`PIPELINE_ARRAY_OFFSET`). */
  taskOffset: number;
  /** Tasks this job runs: its array size, or 1. */
  taskCount: number;
  /** Whether this is an array parent (its tasks are children). */
  array: boolean;
  /** State of every task of this job: an array's children by state, or 1 in the job's own state. */
  counts: StateCounts;
  /**
   * Children Batch reports in the parent's `statusSummary` (0 for plain jobs): an array whose dependency
   * failed ends FAILED without spawning any. An array parent is only ever SUBMITTED, PENDING, SUCCEEDED
   * or FAILED (AWS Batch user guide, "Array jobs"), so this, not `startedAt`, tells whether its tasks ran.
   */
  spawned: number;
  /** The latest attempt's container exit code (plain jobs). */
  exitCode?: number;
  /** The latest attempt's log stream (plain jobs; array children have their own). */
  logStreamName?: string;
  /** Attempts made so far. */
  attempts: number;
  dependsOn: string[];
  jobDefinition: string;
  /** The job's environment (container overrides merged over the definition), for the input of a start job. */
  environment: Record<string, string>;
}

/** One step of a run's DAG. */
export interface RunStep {
  name: string;
  /** The step's width (`PIPELINE_TASK_COUNT`), or the sum of its jobs' task counts. */
  width: number;
  jobs: RunJob[];
  barriers: RunJob[];
  counts: StateCounts;
  state: RunState;
  startedAt?: number;
  stoppedAt?: number;
}

/** What a run as a whole is doing. */
/** What a run (or a step) is doing; the last three only for a local run stopped by Ctrl-C. */
export type RunState = "SUBMITTING" | "WAITING" | "RUNNING" | "SUCCEEDED" | "FAILED" | "INTERRUPTED" | "CANCELLED" | "NOT RUN";

/** The input object the run is for, from its start job's environment (a run with none: from a task's, which has the same variables). */
export interface RunInput {
  bucket: string;
  key: string;
  versionId?: string;
  sizeBytes?: number;
}

/** A run at one moment. */
export interface RunSnapshot {
  runId: string;
  input?: RunInput;
  /** Every start job of the run (a duplicate delivery can leave two), newest first. */
  startJobs: RunJob[];
  /** The newest job of each name of the DAG, in creation order. */
  jobs: RunJob[];
  /** Ids of jobs of earlier start attempts that newer jobs of the same name replaced. */
  supersededIds: string[];
  steps: RunStep[];
  state: RunState;
  createdAt?: number;
  /** When the run ended (the last job stopped), if it has. */
  stoppedAt?: number;
  /** When Batch was last listed (ms), to know when listing again can stop. */
  listedAt: number;
  /** Batch API calls this snapshot cost. */
  calls: number;
}

/** A listing of names newer than this past the start job's end is trusted to be complete (ListJobs is eventually consistent). */
export const LISTING_SETTLE_MS = 60_000;

function envOf(job: JobDetail): Record<string, string> {
  return Object.fromEntries((job.container?.environment ?? []).map((e) => [e.name ?? "", e.value ?? ""]));
}

/** A described job as a {@link RunJob}. */
export function toRunJob(job: JobDetail, kind?: RunJob["kind"]): RunJob {
  const env = envOf(job);
  const resolvedKind = kind ?? (env[TASK_ENV.taskCount] !== undefined ? "task" : "barrier");
  const size = job.arrayProperties?.size;
  const array = size !== undefined && job.arrayProperties?.index === undefined;
  const status = (job.status ?? "SUBMITTED") as JobStatus;
  const counts = zeroCounts();
  let spawned = 0;
  if (array) {
    for (const state of JOB_STATES) counts[state] = job.arrayProperties?.statusSummary?.[state] ?? 0;
    // Children exist only once the parent leaves PENDING; until then every task is in the parent's state.
    spawned = JOB_STATES.reduce((n, s) => n + counts[s], 0);
    if (spawned < size) counts[status] += size - spawned;
  } else counts[status] = 1;
  const last = job.attempts?.at(-1);
  const exitCode = job.container?.exitCode ?? last?.container?.exitCode;
  const logStreamName = job.container?.logStreamName ?? last?.container?.logStreamName;
  return {
    jobId: job.jobId!,
    jobName: job.jobName!,
    kind: resolvedKind,
    // A step name as the spec allows it, else "?": the screen prints it and puts it in a `logs --step` command to paste.
    step: resolvedKind === "start" ? "start" : STEP_NAME_PATTERN.test(env[TASK_ENV.step] ?? "") ? env[TASK_ENV.step]! : "?",
    status,
    ...(job.statusReason ? { statusReason: job.statusReason } : {}),
    ...(job.createdAt !== undefined ? { createdAt: job.createdAt } : {}),
    ...(job.startedAt !== undefined ? { startedAt: job.startedAt } : {}),
    ...(job.stoppedAt !== undefined ? { stoppedAt: job.stoppedAt } : {}),
    taskOffset: Number(env[TASK_ENV.arrayOffset] ?? 0),
    taskCount: array ? size! : 1,
    array,
    counts,
    spawned,
    ...(exitCode !== undefined ? { exitCode } : {}),
    ...(logStreamName ? { logStreamName } : {}),
    attempts: job.attempts?.length ?? 0,
    dependsOn: (job.dependsOn ?? []).map((d) => d.jobId!).filter(Boolean),
    jobDefinition: job.jobDefinition ?? "",
    environment: env,
  };
}


function sumCounts(jobs: readonly RunJob[]): StateCounts {
  const total = zeroCounts();
  for (const job of jobs) {
    for (const state of JOB_STATES) total[state] += job.counts[state];
    for (const state of ["CANCELLED", "NOT_RUN"] as const) if (job.counts[state] !== undefined) total[state] = (total[state] ?? 0) + job.counts[state];
  }
  return total;
}

function stateOf(jobs: readonly RunJob[]): RunState {
  // A local run stopped by Ctrl-C: failed if a task failed, else cancelled if any ran, else not run.
  if (jobs.some((j) => (j.counts.CANCELLED ?? 0) + (j.counts.NOT_RUN ?? 0) > 0)) {
    if (jobs.some((j) => j.counts.FAILED > 0)) return "FAILED";
    return jobs.some((j) => j.counts.SUCCEEDED + (j.counts.CANCELLED ?? 0) > 0) ? "CANCELLED" : "NOT RUN";
  }
  if (jobs.some((j) => j.status === "FAILED")) return jobs.every((j) => isTerminal(j.status)) ? "FAILED" : "RUNNING";
  if (jobs.length > 0 && jobs.every((j) => j.status === "SUCCEEDED")) return "SUCCEEDED";
  if (jobs.some((j) => ["STARTING", "RUNNING"].includes(j.status) || j.counts.RUNNING + j.counts.STARTING + j.counts.SUCCEEDED > 0)) return "RUNNING";
  return "WAITING";
}

/** Groups a run's jobs into steps, in the order their first job was created (the planner's dependency order). */
export function groupSteps(jobs: readonly RunJob[]): RunStep[] {
  const byStep = new Map<string, RunJob[]>();
  for (const job of jobs) byStep.set(job.step, [...(byStep.get(job.step) ?? []), job]);
  return [...byStep].map(([name, stepJobs]) => {
    const tasks = stepJobs.filter((j) => j.kind === "task").sort((a, b) => a.taskOffset - b.taskOffset);
    const barriers = stepJobs.filter((j) => j.kind === "barrier");
    const declared = Number(tasks[0]?.environment[TASK_ENV.taskCount]);
    const started = stepJobs.map((j) => j.startedAt).filter((t): t is number => t !== undefined);
    const stopped = stepJobs.map((j) => j.stoppedAt).filter((t): t is number => t !== undefined);
    const state = stateOf(stepJobs);
    return {
      name,
      width: Number.isSafeInteger(declared) && declared > 0 ? declared : tasks.reduce((n, j) => n + j.taskCount, 0),
      jobs: tasks,
      barriers,
      counts: sumCounts(tasks),
      state,
      ...(started.length > 0 ? { startedAt: Math.min(...started) } : {}),
      ...(state === "SUCCEEDED" || state === "FAILED" ? (stopped.length > 0 ? { stoppedAt: Math.max(...stopped) } : {}) : {}),
    };
  });
}

/** The newest job of each name (an earlier attempt's jobs lose), and how many were dropped. */
function newestByName(jobs: readonly RunJob[]): { jobs: RunJob[]; supersededIds: string[] } {
  const newest = new Map<string, RunJob>();
  for (const job of jobs) {
    const seen = newest.get(job.jobName);
    if (!seen || (job.createdAt ?? 0) > (seen.createdAt ?? 0)) newest.set(job.jobName, job);
  }
  const kept = [...newest.values()].sort((a, b) => (a.createdAt ?? 0) - (b.createdAt ?? 0) || a.jobName.localeCompare(b.jobName));
  const keptIds = new Set(kept.map((j) => j.jobId));
  return { jobs: kept, supersededIds: jobs.filter((j) => !keptIds.has(j.jobId)).map((j) => j.jobId) };
}

function inputOf(job: RunJob | undefined): RunInput | undefined {
  const env = job?.environment;
  if (!env?.[START_JOB_ENV.bucket] || env[START_JOB_ENV.key] === undefined) return undefined;
  const size = Number(env[START_JOB_ENV.size]);
  return {
    bucket: env[START_JOB_ENV.bucket]!,
    key: env[START_JOB_ENV.key]!,
    ...(env[START_JOB_ENV.versionId] ? { versionId: env[START_JOB_ENV.versionId] } : {}),
    ...(Number.isSafeInteger(size) ? { sizeBytes: size } : {}),
  };
}

/** Builds a snapshot from described start and DAG jobs. */
export function snapshotOf(runId: string, startJobs: readonly RunJob[], dagJobs: readonly RunJob[], listedAt: number, calls: number): RunSnapshot {
  const { jobs, supersededIds } = newestByName(dagJobs);
  const starts = [...startJobs].sort((a, b) => (b.createdAt ?? 0) - (a.createdAt ?? 0));
  const steps = groupSteps(jobs);
  let state: RunState;
  if (jobs.length === 0) {
    const live = starts.some((s) => !isTerminal(s.status));
    // A start job that just succeeded submitted a DAG that ListJobs may not show yet (eventually consistent).
    const settling = starts.some((s) => s.status === "SUCCEEDED" && s.stoppedAt !== undefined && listedAt < s.stoppedAt + LISTING_SETTLE_MS);
    state = live || settling ? "SUBMITTING" : starts.some((s) => s.status === "FAILED") ? "FAILED" : "SUCCEEDED";
  } else {
    state = stateOf(jobs);
    // A start job still submitting (or waiting with `orchestrator.wait`) keeps the run open until it ends.
    if ((state === "SUCCEEDED" || state === "FAILED") && starts.some((s) => !isTerminal(s.status))) state = "SUBMITTING";
    // A run the trigger submits inline has no start job to retry: when its submission failed, the trigger withdrew
    // the DAG (every failed job says so) and submits it again within TRIGGER_RETRY_WITHIN_SECONDS, unless the event
    // ran out of retries (then it stays FAILED, and the dead-letter queue has it).
    if (state === "FAILED" && starts.length === 0 && jobs.every((j) => j.status !== "FAILED" || isRolledBack(j.statusReason, runId))) {
      const withdrawnAt = Math.max(0, ...jobs.map((j) => j.stoppedAt ?? j.createdAt ?? 0));
      if (listedAt < withdrawnAt + TRIGGER_RETRY_WITHIN_SECONDS * 1000) state = "SUBMITTING";
    }
  }
  const created = [...starts, ...jobs].map((j) => j.createdAt).filter((t): t is number => t !== undefined);
  // A start job that failed before submitting anything (bad input) is the whole run: it ended when it stopped.
  const stopped = (jobs.length > 0 ? jobs : starts).map((j) => j.stoppedAt).filter((t): t is number => t !== undefined);
  // A run the trigger submitted inline has no start job; every task carries the input's variables too (barriers do not).
  const input = inputOf(starts[0] ?? jobs.find((j) => j.kind === "task"));
  return {
    runId,
    ...(input ? { input } : {}),
    startJobs: starts,
    jobs,
    supersededIds,
    steps,
    state,
    ...(created.length > 0 ? { createdAt: Math.min(...created) } : {}),
    ...((state === "SUCCEEDED" || state === "FAILED") && stopped.length > 0 ? { stoppedAt: Math.max(...stopped) } : {}),
    listedAt,
    calls,
  };
}
