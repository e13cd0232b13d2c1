/**
 * Cancelling a run: which of its jobs are still live (start jobs, the DAG, and jobs of an earlier start
 * attempt that newer ones replaced), and terminating them in the order that stops the run soonest and
 * for good: the start jobs first (a live start job could otherwise still submit more of the DAG), then
 * the DAG's jobs in dependency order, then the array children that Batch does not stop with their parent;
 * then, until all of that has ended (cli/cancel/execute.ts), whatever appears later.
 *
 * Batch facts (TerminateJob and CancelJob API references, user guide "Array jobs"; docs/aws-batch-limits.md):
 * TerminateJob on a job that has not reached STARTING cancels it; a PENDING job is cancelled once its
 * dependencies finish. An array parent is never STARTING or RUNNING itself, so TerminateJob on it is a
 * cancel, which "attempts to cancel all child jobs", but children that already reached STARTING or
 * RUNNING "aren't canceled ... These jobs must be terminated with the TerminateJob operation": they are
 * listed (ListJobs `arrayJobId` + `jobStatus`, one status at a time) and terminated one by one, as the
 * orchestrator does for an earlier attempt's partial DAG (batch/attempts.ts `waitUntilStopped`).
 */
import type { JobStatus } from "@aws-sdk/client-batch";
import { type BatchDeps, describeJobs, isTerminal, listArrayChildren, terminateJobs } from "../../batch/calls";
import { LISTING_SETTLE_MS, type RunJob, type RunSnapshot, toRunJob } from "../runModel/model";

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

const live = (job: RunJob) => !isTerminal(job.status);

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

/**
 * From when a listing of the run can be trusted to show every job its start jobs submitted (ListJobs is
 * eventually consistent: cli/runModel/model.ts {@link LISTING_SETTLE_MS} after the last of them stopped), or
 * none while one of them (other than `ignored`) is live. A start job that never started submitted nothing.
 */
export function listingSettlesAt(snapshot: RunSnapshot, ignored: ReadonlySet<string> = new Set()): number | undefined {
  const starts = snapshot.startJobs.filter((j) => !ignored.has(j.jobId));
  if (starts.some(live)) return undefined;
  const stops = starts.filter((j) => j.startedAt !== undefined).map((j) => j.stoppedAt ?? j.startedAt!);
  return stops.length > 0 ? Math.max(...stops) + LISTING_SETTLE_MS : -Infinity;
}

/** One job or array child that was (or could not be) terminated, or is still running. */
export interface TerminatedJob {
  step: string;
  jobId: string;
  jobName: string;
  kind: "start" | "job" | "child";
  /** Its state before TerminateJob (in `stillRunning`: when last seen). */
  status: JobStatus;
}

/** A TerminateJob call that failed. */
export interface FailedTermination extends TerminatedJob {
  error: unknown;
}

export interface CancelOutcome {
  terminated: TerminatedJob[];
  failed: FailedTermination[];
  /** Terminated jobs and children not yet ended when the wait stopped (empty when it ended with them all). */
  stillRunning: TerminatedJob[];
  /** How the wait for the terminated jobs to end stopped. */
  wait: "done" | "timeout" | "interrupted" | "error";
  /** Why the wait stopped, when a Batch call failed. */
  waitError?: unknown;
  /** Time spent waiting (ms). */
  waitedMs: number;
}

/** What {@link executeCancel} needs. */
export interface CancelDeps extends BatchDeps {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  signal?: AbortSignal;
  /** Reads the run again, given the last snapshot (cli/runModel/read.ts `fetchRun`). */
  refetch: (previous: RunSnapshot) => Promise<RunSnapshot>;
  /** One line of progress. */
  progress?: (text: string) => void;
  /** How long to wait at most for what was terminated to end. @default cli/cancel/execute.ts CANCEL_WAIT_MS */
  waitMs?: number;
}

/** A job as a {@link TerminatedJob} of `kind`, in its state now. */
export const terminatedEntry = (job: RunJob, kind: TerminatedJob["kind"]): TerminatedJob => ({ step: job.step, jobId: job.jobId, jobName: job.jobName, kind, status: job.status });

/** Terminates each job and child once (concurrency 4, throttling retried: batch/calls.ts `terminateJobs`), keeping the tally. */
export class Terminator {
  readonly terminated: TerminatedJob[] = [];
  readonly failed: FailedTermination[] = [];
  /** Array parents terminated, by id: their STARTING and RUNNING children are terminated until they end. */
  readonly parents = new Map<string, RunJob>();
  private readonly tried = new Set<string>();

  constructor(
    private readonly reason: string,
    private readonly deps: BatchDeps,
  ) {}

  /** Ids whose TerminateJob failed: nothing is waited for on their account. */
  failedIds(): Set<string> {
    return new Set(this.failed.map((f) => f.jobId));
  }

  /** Terminates those of `entries` not tried before; returns the ones terminated now. */
  async terminate(entries: readonly TerminatedJob[]): Promise<TerminatedJob[]> {
    const fresh = entries.filter((e) => !this.tried.has(e.jobId));
    if (fresh.length === 0) return [];
    for (const e of fresh) this.tried.add(e.jobId);
    const result = await terminateJobs(
      fresh.map((e) => e.jobId),
      this.reason,
      this.deps,
    );
    const failed = new Set(result.failed);
    const done = fresh.filter((e) => !failed.has(e.jobId));
    for (const e of fresh) if (failed.has(e.jobId)) this.failed.push({ ...e, error: result.error });
    this.terminated.push(...done);
    return done;
  }

  /** Terminates the live jobs of `plan` not tried yet: start jobs first, then the DAG (array parents remembered). */
  async plan(plan: CancelPlan): Promise<TerminatedJob[]> {
    const done = [...(await this.terminate(plan.startJobs.map((j) => terminatedEntry(j, "start")))), ...(await this.terminate(plan.dagJobs.map((j) => terminatedEntry(j, "job"))))];
    const ids = new Set(done.map((d) => d.jobId));
    for (const job of plan.dagJobs) if (job.array && ids.has(job.jobId)) this.parents.set(job.jobId, job);
    return done;
  }

  /** Lists `parent`'s STARTING and RUNNING children (every page) and terminates the new ones; returns those listed. */
  async children(parent: RunJob): Promise<{ listed: TerminatedJob[]; terminated: TerminatedJob[] }> {
    const listed: TerminatedJob[] = [];
    const index = (id: string) => parent.taskOffset + Number(id.split(":").at(-1));
    for (const child of await listArrayChildren(parent.jobId, CHILD_STATES_TO_TERMINATE, this.deps)) {
      listed.push({ step: parent.step, jobId: child.jobId!, jobName: `${parent.jobName}[${index(child.jobId!)}]`, kind: "child", status: child.status as JobStatus });
    }
    return { listed, terminated: await this.terminate(listed) };
  }
}
