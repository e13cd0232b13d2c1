/**
 * Carrying out a cancel (cli/cancel/plan.ts plans it): terminate what the plan found, then wait, bounded,
 * until it has ended, terminating what shows up meanwhile, because one listing is not the whole run:
 * - a start job keeps running for up to ~30 s after TerminateJob (SIGTERM, then SIGKILL: TerminateJob API
 *   reference) and may submit more of the DAG meanwhile, and ListJobs is eventually consistent, so the run
 *   is listed again until a listing made {@link LISTING_SETTLE_MS} after the last start job stopped;
 * - an array child moving RUNNABLE → STARTING as its parent is cancelled is not cancelled ("children
 *   already STARTING or RUNNING must be terminated", CancelJob API reference), and the parent ends only
 *   once every child has (user guide, "Array jobs"): the STARTING and RUNNING children of each terminated
 *   parent are listed again, and terminated, until the parent has ended.
 * Polls back off from 5 s to 30 s for at most {@link CANCEL_WAIT_MS}, the bound batch/attempts.ts
 * `waitUntilStopped` uses for an earlier attempt's jobs. That function is not reused: it waits for a fixed
 * list of ids, never lists the run again, and reports a timeout as the orchestrator's SubmissionError
 * without saying which jobs still run, which is what an operator needs to know here.
 */
import { describeJobs, isTerminal } from "../../batch/calls";
import { type CancelDeps, type CancelOutcome, type CancelPlan, listingSettlesAt, planCancel, type TerminatedJob, terminatedEntry, Terminator } from "./plan";
import { fmtInt } from "../app/format";
import { LISTING_SETTLE_MS, type RunSnapshot } from "../runModel/model";

/** How long a cancel waits at most for what it terminated to end. */
export const CANCEL_WAIT_MS = 600_000;
const POLL_BASE_MS = 5_000;
const POLL_CAP_MS = 30_000;

const plural = (n: number, one: string, many = `${one}s`) => `${fmtInt(n)} ${n === 1 ? one : many}`;
const seconds = (ms: number) => `${fmtInt(Math.ceil(ms / 1000))} s`;
const names = (jobs: readonly TerminatedJob[]) => `${jobs.slice(0, 5).map((j) => j.jobName).join(", ")}${jobs.length > 5 ? ", …" : ""}`;

/**
 * When the plan found nothing live but the listing cannot be trusted yet (a start job stopped less than
 * {@link LISTING_SETTLE_MS} ago, and Batch may not list what it submitted), waits until it can and reads
 * the run again.
 */
export async function settledSnapshot(snapshot: RunSnapshot, deps: Pick<CancelDeps, "now" | "sleep" | "signal" | "refetch" | "progress">): Promise<RunSnapshot> {
  const at = listingSettlesAt(snapshot);
  if (at === undefined || snapshot.listedAt >= at) return snapshot;
  const wait = Math.max(0, at - deps.now());
  const stoppedAgo = Math.max(0, deps.now() - (at - LISTING_SETTLE_MS));
  deps.progress?.(`run ${snapshot.runId}'s start job stopped ${seconds(stoppedAgo)} ago; Batch may not list every job it submitted yet (ListJobs is eventually consistent): looking again in ${seconds(wait)}`);
  await deps.sleep(wait);
  return deps.signal?.aborted ? snapshot : deps.refetch(snapshot);
}

/**
 * Terminates what `plan` found (start jobs, then the DAG, then the STARTING and RUNNING children of its
 * array parents that have not ended), then waits until the start jobs have stopped, a listing after them
 * has settled, and every terminated array parent has ended, terminating what appears meanwhile. Progress
 * goes to `deps.progress`; what still runs when the wait stops early is in the outcome's `stillRunning`.
 */
export async function executeCancel(plan: CancelPlan, snapshot: RunSnapshot, reason: string, deps: CancelDeps): Promise<CancelOutcome> {
  const t = new Terminator(reason, deps);
  await t.plan(plan);
  /** By array parent: its STARTING and RUNNING children as last listed. */
  const running = new Map<string, TerminatedJob[]>();
  /** Drops the parents that have ended; lists the others' STARTING and RUNNING children and terminates the new ones. */
  const checkParents = async (): Promise<TerminatedJob[]> => {
    const details = new Map((await describeJobs([...t.parents.keys()], deps)).map((d) => [d.jobId!, d]));
    const terminated: TerminatedJob[] = [];
    for (const [id, parent] of t.parents) {
      const status = details.get(id)?.status;
      if (isTerminal(status)) {
        t.parents.delete(id);
        running.delete(id);
        continue;
      }
      if (status) t.parents.set(id, { ...parent, status });
      const children = await t.children(parent);
      running.set(id, children.listed);
      terminated.push(...children.terminated);
    }
    return terminated;
  };
  const bound = deps.waitMs ?? CANCEL_WAIT_MS;
  const startedAt = deps.now();
  let run = snapshot;
  let starts = run.startJobs.filter((j) => !isTerminal(j.status));
  const finish = (wait: CancelOutcome["wait"], waitError?: unknown): CancelOutcome => ({
    terminated: t.terminated,
    failed: t.failed,
    stillRunning: wait === "done" ? [] : [...starts.map((s) => terminatedEntry(s, "start")), ...[...t.parents.values()].flatMap((p) => [terminatedEntry(p, "job"), ...(running.get(p.jobId) ?? [])])],
    wait,
    ...(waitError !== undefined ? { waitError } : {}),
    waitedMs: deps.now() - startedAt,
  });
  try {
    await checkParents();
  } catch (error) {
    return finish("error", error);
  }
  for (let poll = 0; ; poll++) {
    const failed = t.failedIds();
    starts = run.startJobs.filter((j) => !isTerminal(j.status) && !failed.has(j.jobId));
    const settlesAt = listingSettlesAt(run, failed);
    const listed = settlesAt !== undefined && run.listedAt >= settlesAt;
    if (starts.length === 0 && listed && t.parents.size === 0) return finish("done");
    const waited = deps.now() - startedAt;
    if (waited >= bound) return finish("timeout");
    // Only the listing left to settle: look again when it can be trusted.
    const onlyListing = starts.length === 0 && t.parents.size === 0 && settlesAt !== undefined;
    const delay = Math.min(onlyListing ? Math.max(0, settlesAt - deps.now()) : Math.min(POLL_CAP_MS, POLL_BASE_MS * 2 ** poll), bound - waited);
    deps.progress?.(`waiting for ${waitingFor(starts.length, listed, [...t.parents.keys()].map((id) => running.get(id) ?? []))}; checking again in ${seconds(delay)}`);
    await deps.sleep(delay);
    if (deps.signal?.aborted) return finish("interrupted");
    try {
      if (!listed) {
        run = await deps.refetch(run);
        const more = await t.plan(await planCancel(run, deps));
        if (more.length > 0) deps.progress?.(`terminated ${plural(more.length, "job")} that Batch listed only now: ${names(more)}`);
      }
      const children = await checkParents();
      if (children.length > 0) deps.progress?.(`terminated ${plural(children.length, "array child", "array children")} that started after their array job was cancelled: ${names(children)}`);
    } catch (error) {
      return finish("error", error);
    }
  }
}

/** `the start job to stop (it may still submit jobs), 1 array job to end (3 children running)`. */
function waitingFor(starts: number, listed: boolean, parents: readonly TerminatedJob[][]): string {
  const parts: string[] = [];
  if (starts > 0) parts.push(`${starts === 1 ? "the start job" : `${fmtInt(starts)} start jobs`} to stop (${starts === 1 ? "it" : "they"} may still submit jobs)`);
  else if (!listed) parts.push("Batch to list every job the start job submitted (ListJobs is eventually consistent)");
  if (parents.length > 0) {
    const children = parents.reduce((n, c) => n + c.length, 0);
    parts.push(`${plural(parents.length, "array job")} to end (${plural(children, "child", "children")} still running)`);
  }
  return parts.join(", ");
}
