/**
 * A local run as the run model `status` and `watch` draw (cli/runModel/model.ts): each local job as the
 * {@link RunJob} DescribeJobs would give (an array parent with its children's counts), grouped into steps
 * by the same code, so cli/runModel/screen.ts renders the DAG, the progress bars and the failures exactly as
 * for a run in AWS. Also the end-of-run summary. Pure; O(jobs), never O(tasks), except the few failed
 * children listed.
 */
import type { JobStatus } from "@aws-sdk/client-batch";
import { TASK_ENV } from "../../contract";
import { FAILED_ARRAYS_LISTED, FAILED_CHILDREN_SHOWN } from "../runModel/failures";
import type { ChildJob } from "../runModel/read";
import { groupSteps, type RunJob, type RunSnapshot, type RunState } from "../runModel/model";
import type { JobFailure } from "../runModel/screen";
import type { LocalJob, LocalRunModel, LocalStep, LocalTask, TaskStatus } from "./model";

const TERMINAL = new Set<JobStatus>(["SUCCEEDED", "FAILED"]);

/**
 * The status an array parent shows: PENDING until its children are done, then SUCCEEDED or FAILED (an
 * array parent is only ever SUBMITTED, PENDING, SUCCEEDED or FAILED: "Array jobs", Batch user guide).
 */
const parentStatus = (job: LocalJob): JobStatus => (job.unfinished === 0 ? job.status : "PENDING");

/** A task's status as DescribeJobs would give it: a job stopped by Ctrl-C is FAILED there (its counts say CANCELLED). */
const batchStatus = (status: TaskStatus): JobStatus => (status === "CANCELLED" ? "FAILED" : status);

/** One local job as a {@link RunJob}. */
export function runJobOf(job: LocalJob, createdAt: number): RunJob {
  const { planned } = job;
  const single = planned.kind === "task" && !job.array ? job.tasks[0]! : undefined;
  const status = single ? batchStatus(single.status) : planned.kind === "barrier" ? job.status : parentStatus(job);
  const statusReason = single ? single.statusReason : job.statusReason;
  const startedAt = single ? single.startedAt : job.startedAt;
  const stoppedAt = single ? single.stoppedAt : job.stoppedAt;
  const counts = planned.kind === "barrier" ? { ...job.counts, [status]: 1 } : { ...job.counts };
  return {
    jobId: job.jobId,
    jobName: planned.request.jobName,
    kind: planned.kind,
    step: planned.step,
    status,
    ...(statusReason !== undefined ? { statusReason } : {}),
    createdAt,
    ...(startedAt !== undefined ? { startedAt } : {}),
    ...(stoppedAt !== undefined && TERMINAL.has(status) ? { stoppedAt } : {}),
    taskOffset: planned.taskOffset,
    taskCount: planned.taskCount,
    array: job.array,
    counts,
    // Batch spawns an array's children once its dependencies let it start; one that failed spawns none.
    spawned: job.array && job.released ? planned.taskCount : 0,
    ...(single?.exitCode !== undefined ? { exitCode: single.exitCode } : {}),
    attempts: single ? single.attempts : 0,
    dependsOn: [],
    jobDefinition: planned.request.jobDefinition,
    environment: planned.kind === "task" ? { [TASK_ENV.step]: planned.step, [TASK_ENV.taskCount]: String(job.step.width), [TASK_ENV.arrayOffset]: String(planned.taskOffset) } : { [TASK_ENV.step]: planned.step },
  };
}

/** What a whole run is doing: as the run model's state of its jobs (cli/runModel/model.ts). */
function runState(jobs: readonly RunJob[]): RunState {
  if (jobs.every((j) => TERMINAL.has(j.status))) return jobs.some((j) => j.status === "FAILED") ? "FAILED" : "SUCCEEDED";
  if (jobs.some((j) => j.status === "FAILED" || j.counts.RUNNING + j.counts.STARTING + j.counts.SUCCEEDED > 0)) return "RUNNING";
  return "WAITING";
}

/**
 * A step's state from its counters, in O(1) per change (the plain view asks after every task event):
 * the same as `groupSteps` gives for the step's jobs (a test holds both to it).
 */
export function stepState(step: LocalStep): RunState {
  if (step.counts.CANCELLED > 0) return step.counts.FAILED > 0 || step.failedJobs > 0 ? "FAILED" : "CANCELLED";
  if (step.unfinishedJobs === 0) return step.failedJobs > 0 ? "FAILED" : "SUCCEEDED";
  const { counts } = step;
  if (step.failedJobs > 0 || step.succeededBarriers > 0 || counts.RUNNING + counts.STARTING + counts.SUCCEEDED > 0) return "RUNNING";
  return "WAITING";
}

/** A job of a run stopped by Ctrl-C: the tasks it never started are NOT_RUN, no longer waiting. */
function notRun(job: RunJob): RunJob {
  const counts = { ...job.counts };
  counts.NOT_RUN = counts.SUBMITTED + counts.PENDING + counts.RUNNABLE;
  counts.SUBMITTED = counts.PENDING = counts.RUNNABLE = 0;
  return { ...job, counts };
}

/**
 * The run as `status` would show it. `startedAt`: when it began; `stoppedAt` once it ended; `interrupted`:
 * it ended on Ctrl-C, so the run is INTERRUPTED, its stopped tasks CANCELLED, and the steps it never
 * started NOT RUN (cli/runModel/model.ts).
 */
export function localSnapshot(model: LocalRunModel, input: RunSnapshot["input"], startedAt: number, stoppedAt?: number, interrupted = false): RunSnapshot {
  const jobs = model.jobs.map((job) => (interrupted ? notRun(runJobOf(job, startedAt)) : runJobOf(job, startedAt)));
  return {
    runId: model.plan.runId,
    ...(input ? { input } : {}),
    startJobs: [],
    jobs,
    supersededIds: [],
    steps: groupSteps(jobs),
    state: interrupted ? "INTERRUPTED" : runState(jobs),
    createdAt: startedAt,
    ...(stoppedAt !== undefined ? { stoppedAt } : {}),
    listedAt: stoppedAt ?? startedAt,
    calls: 0,
  };
}

/** A failed task as the child `status` lists. */
export function childOf(task: LocalTask): ChildJob {
  return {
    jobId: task.jobId,
    index: Math.max(0, task.index),
    status: batchStatus(task.status),
    ...(task.statusReason !== undefined ? { statusReason: task.statusReason } : {}),
    ...(task.exitCode !== undefined ? { exitCode: task.exitCode } : {}),
    ...(task.startedAt !== undefined ? { startedAt: task.startedAt } : {}),
    ...(task.stoppedAt !== undefined ? { stoppedAt: task.stoppedAt } : {}),
    attempts: task.attempts,
  };
}

/** The failures `status` would list: every failed job, and the first failed children of the first arrays that ran. */
export function localFailures(model: LocalRunModel, snapshot: RunSnapshot): JobFailure[] {
  const byId = new Map(model.jobs.map((j) => [j.jobId, j]));
  let listed = 0;
  const failures: JobFailure[] = [];
  for (const job of snapshot.jobs) {
    // Failed tasks (a job stopped by Ctrl-C is FAILED for Batch, but its task is CANCELLED, not failed).
    if (job.counts.FAILED === 0) continue;
    if (!job.array) {
      failures.push({ job, failedTasks: 1, children: [], listed: false });
      continue;
    }
    const list = job.spawned > 0 && listed++ < FAILED_ARRAYS_LISTED;
    const children: ChildJob[] = [];
    if (list) {
      for (const task of byId.get(job.jobId)!.tasks) {
        if (children.length === FAILED_CHILDREN_SHOWN) break;
        if (task.status === "FAILED") children.push(childOf(task));
      }
    }
    failures.push({ job, failedTasks: job.counts.FAILED, children, listed: list });
  }
  return failures;
}

/** The end of a run in numbers. */
export interface RunSummary {
  tasks: number;
  /** Tasks with at least one attempt. */
  run: number;
  succeeded: number;
  failed: number;
  /** Failed tasks that never ran (a dependency failed). */
  neverRan: number;
  /** Tasks whose attempt Ctrl-C stopped, and tasks it kept from ever starting. */
  cancelled: number;
  notRun: number;
  /** Tasks with more than one attempt, and the attempts beyond the first. */
  retried: number;
  extraAttempts: number;
  wallMs: number;
  slowest?: { step: string; ms: number };
}

/** Counts every task once: O(tasks), at the end only. */
export function summarize(model: LocalRunModel, startedAt: number, stoppedAt: number): RunSummary {
  const s: RunSummary = { tasks: model.taskCount, run: 0, succeeded: 0, failed: 0, neverRan: 0, cancelled: 0, notRun: 0, retried: 0, extraAttempts: 0, wallMs: stoppedAt - startedAt };
  for (const job of model.jobs) {
    for (const task of job.tasks) {
      if (task.attempts > 0) s.run++;
      if (task.attempts > 1) {
        s.retried++;
        s.extraAttempts += task.attempts - 1;
      }
      if (task.status === "SUCCEEDED") s.succeeded++;
      else if (task.status === "FAILED") {
        s.failed++;
        if (task.attempts === 0) s.neverRan++;
      } else if (task.status === "CANCELLED") s.cancelled++;
      else if (task.attempts === 0) s.notRun++;
    }
  }
  for (const step of model.steps) {
    if (step.startedAt === undefined) continue;
    const ms = (step.stoppedAt ?? stoppedAt) - step.startedAt;
    if (!s.slowest || ms > s.slowest.ms) s.slowest = { step: step.name, ms };
  }
  return s;
}
