/**
 * Cancelling a run: which of its jobs are still live (start jobs, the DAG, and jobs of an earlier start
 * attempt that newer ones replaced), and terminating them in the order that stops the run soonest and
 * for good: the start jobs first (a live start job could otherwise still submit more of the DAG), then
 * the DAG's jobs in dependency order, then the array children that Batch does not stop with their parent.
 *
 * Batch facts (TerminateJob and CancelJob API references, user guide "Array jobs"; docs/aws-batch-limits.md):
 * TerminateJob on a job that has not reached STARTING cancels it; a PENDING job is cancelled once its
 * dependencies finish. An array parent is never STARTING or RUNNING itself, so TerminateJob on it is a
 * cancel, which "attempts to cancel all child jobs", but children that already reached STARTING or
 * RUNNING "aren't canceled ... These jobs must be terminated with the TerminateJob operation": they are
 * listed (ListJobs `arrayJobId` + `jobStatus`, one status at a time) and terminated one by one, as the
 * orchestrator does for an earlier attempt's partial DAG (jobs/attempts.ts `waitUntilStopped`).
 */
import { type JobStatus, ListJobsCommand } from "@aws-sdk/client-batch";
import { type BatchDeps, describeJobs, TERMINAL, terminateJobs, withThrottleRetry } from "../jobs/batch";
import { type RunJob, type RunSnapshot, toRunJob } from "./runModel";

/** Children that TerminateJob on their parent does not stop: they must be terminated themselves. */
export const CHILD_STATES_TO_TERMINATE: readonly JobStatus[] = ["STARTING", "RUNNING"];

const RUNNING_STATES: readonly JobStatus[] = ["STARTING", "RUNNING"];
const WAITING_STATES: readonly JobStatus[] = ["SUBMITTED", "PENDING", "RUNNABLE"];

/** What a cancel would terminate. */
export interface CancelPlan {
  runId: string;
  /** Live start jobs, newest first. */
  startJobs: RunJob[];
  /** Live jobs of the DAG (and of earlier attempts), in creation order. */
  dagJobs: RunJob[];
  /** Tasks (array children included) and jobs that are STARTING or RUNNING. */
  running: number;
  /** Tasks and jobs that are SUBMITTED, PENDING or RUNNABLE. */
  waiting: number;
}

const live = (job: RunJob) => !TERMINAL.has(job.status);

function tally(job: RunJob): { running: number; waiting: number } {
  const sum = (states: readonly JobStatus[]) => states.reduce((n, s) => n + job.counts[s], 0);
  return { running: sum(RUNNING_STATES), waiting: sum(WAITING_STATES) };
}

/**
 * The jobs of `snapshot` that are not SUCCEEDED or FAILED, and of an earlier attempt's jobs
 * (`snapshot.supersededIds`, described here since a snapshot keeps only their ids) those still live.
 */
export async function planCancel(snapshot: RunSnapshot, deps: BatchDeps): Promise<CancelPlan> {
  const superseded = (await describeJobs(snapshot.supersededIds, deps)).map((d) => toRunJob(d)).filter(live);
  const startJobs = snapshot.startJobs.filter(live);
  const dagJobs = [...superseded, ...snapshot.jobs.filter(live)].sort((a, b) => (a.createdAt ?? 0) - (b.createdAt ?? 0));
  let running = 0;
  let waiting = 0;
  for (const job of [...startJobs, ...dagJobs]) {
    const t = tally(job);
    running += t.running;
    waiting += t.waiting;
  }
  return { runId: snapshot.runId, startJobs, dagJobs, running, waiting };
}

/** One job or array child that was (or could not be) terminated. */
export interface TerminatedJob {
  step: string;
  jobId: string;
  jobName: string;
  kind: "start" | "job" | "child";
  /** Its state before TerminateJob. */
  status: JobStatus;
}

/** A TerminateJob call that failed. */
export interface FailedTermination extends TerminatedJob {
  error: unknown;
}

export interface CancelOutcome {
  terminated: TerminatedJob[];
  failed: FailedTermination[];
}

/** The live children of array job `parentId` in `statuses`, every page (ListJobs lists children one status at a time). */
async function liveChildren(parentId: string, statuses: readonly JobStatus[], deps: BatchDeps): Promise<{ jobId: string; status: JobStatus }[]> {
  const found: { jobId: string; status: JobStatus }[] = [];
  for (const jobStatus of statuses) {
    let nextToken: string | undefined;
    do {
      const page = await withThrottleRetry(() => deps.batch.send(new ListJobsCommand({ arrayJobId: parentId, jobStatus, nextToken })), deps, "ListJobs");
      for (const child of page.jobSummaryList ?? []) if (child.jobId) found.push({ jobId: child.jobId, status: child.status ?? jobStatus });
      nextToken = page.nextToken;
    } while (nextToken);
  }
  return found;
}

/** Terminates `entries` (concurrency 4, throttling retried: jobs/batch.ts `terminateJobs`) and sorts them into done and failed. */
async function terminate(entries: readonly TerminatedJob[], reason: string, deps: BatchDeps, outcome: CancelOutcome): Promise<void> {
  if (entries.length === 0) return;
  const result = await terminateJobs(
    entries.map((e) => e.jobId),
    reason,
    deps,
  );
  const failed = new Set(result.failed);
  for (const entry of entries) {
    if (failed.has(entry.jobId)) outcome.failed.push({ ...entry, error: result.error });
    else outcome.terminated.push(entry);
  }
}

/** Terminates what `plan` found: start jobs, then the DAG, then the STARTING and RUNNING children of its live array parents. */
export async function executeCancel(plan: CancelPlan, reason: string, deps: BatchDeps): Promise<CancelOutcome> {
  const outcome: CancelOutcome = { terminated: [], failed: [] };
  const entry = (job: RunJob, kind: TerminatedJob["kind"]): TerminatedJob => ({ step: job.step, jobId: job.jobId, jobName: job.jobName, kind, status: job.status });
  await terminate(
    plan.startJobs.map((j) => entry(j, "start")),
    reason,
    deps,
    outcome,
  );
  await terminate(
    plan.dagJobs.map((j) => entry(j, "job")),
    reason,
    deps,
    outcome,
  );
  for (const parent of plan.dagJobs.filter((j) => j.array)) {
    const children = await liveChildren(parent.jobId, CHILD_STATES_TO_TERMINATE, deps);
    const index = (id: string) => parent.taskOffset + Number(id.split(":").at(-1));
    await terminate(
      children.map((c) => ({ step: parent.step, jobId: c.jobId, jobName: `${parent.jobName}[${index(c.jobId)}]`, kind: "child", status: c.status })),
      reason,
      deps,
      outcome,
    );
  }
  return outcome;
}
