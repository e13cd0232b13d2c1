/**
 * Waiting for a submitted DAG: polls DescribeJobs until the run has succeeded or failed, and logs each
 * job's state transitions and the counts per state on the way.
 */
import type { JobStatus } from "@aws-sdk/client-batch";
import { defaultSleep, describeJobs, type BatchDeps } from "../batch/calls";
import { silentLogger } from "./log";

/** Options of {@link waitForJobs}. */
export interface WaitDeps extends BatchDeps {
  /** @default 30,000 (Batch state changes take tens of seconds; polling faster only costs API calls) */
  pollIntervalMs?: number;
  /**
   * Polls in a row a job may be missing from DescribeJobs (it is eventually consistent just after
   * SubmitJob) before waiting gives up.
   * @default 5
   */
  maxMissingPolls?: number;
  /** @default Date.now */
  now?: () => number;
}

/** Result of {@link waitForJobs}. */
export interface WaitResult {
  outcome: "SUCCEEDED" | "FAILED";
  /** Jobs per status at the last poll. */
  counts: Partial<Record<JobStatus, number>>;
  /** The failed jobs (empty when all succeeded). */
  failed: { jobId: string; jobName?: string; statusReason?: string }[];
  elapsedMs: number;
}

/** Waiting could not finish: jobs vanished from DescribeJobs. */
export class WaitError extends Error {
  override readonly name = "WaitError";
}

/**
 * Polls DescribeJobs until every job SUCCEEDED or any FAILED (a failed job fails its dependents, so
 * the run cannot succeed any more). Logs each job's state transitions and the counts per state.
 */
export async function waitForJobs(jobIds: readonly string[], deps: WaitDeps): Promise<WaitResult> {
  const log = deps.log ?? silentLogger;
  const sleep = deps.sleep ?? defaultSleep;
  const now = deps.now ?? Date.now;
  const pollIntervalMs = deps.pollIntervalMs ?? 30_000;
  const maxMissingPolls = deps.maxMissingPolls ?? 5;
  const started = now();
  const last = new Map<string, JobStatus>();
  let missingPolls = 0;
  let lastCountsLine = "";

  for (;;) {
    const details = await describeJobs(jobIds, deps);
    const byId = new Map(details.map((d) => [d.jobId, d]));
    const missing = jobIds.filter((id) => !byId.has(id));
    missingPolls = missing.length > 0 ? missingPolls + 1 : 0;
    if (missingPolls > maxMissingPolls) {
      throw new WaitError(`${missing.length} job(s) not found by DescribeJobs after ${missingPolls} polls: ${missing.slice(0, 10).join(", ")}`);
    }

    const counts: Partial<Record<JobStatus, number>> = {};
    const tasks: Record<string, number> = {};
    for (const d of details) {
      const status = d.status!;
      counts[status] = (counts[status] ?? 0) + 1;
      const before = last.get(d.jobId!);
      if (before !== status) {
        log.info("job state changed", { jobName: d.jobName, jobId: d.jobId, from: before ?? null, to: status, ...(d.statusReason ? { statusReason: d.statusReason } : {}) });
        last.set(d.jobId!, status);
      }
      for (const [state, n] of Object.entries(d.arrayProperties?.statusSummary ?? {})) tasks[state] = (tasks[state] ?? 0) + n;
    }
    const countsLine = JSON.stringify([counts, tasks]);
    if (countsLine !== lastCountsLine) {
      log.info("progress", { jobs: counts, arrayTasks: tasks, missing: missing.length });
      lastCountsLine = countsLine;
    }

    const failed = details.filter((d) => d.status === "FAILED");
    if (failed.length > 0) {
      const result: WaitResult = {
        outcome: "FAILED",
        counts,
        failed: failed.map((d) => ({ jobId: d.jobId!, jobName: d.jobName, statusReason: d.statusReason })),
        elapsedMs: now() - started,
      };
      log.error("the run failed", { failed: result.failed, elapsedMs: result.elapsedMs });
      return result;
    }
    if (missing.length === 0 && counts.SUCCEEDED === jobIds.length) {
      const result: WaitResult = { outcome: "SUCCEEDED", counts, failed: [], elapsedMs: now() - started };
      log.info("the run succeeded", { jobs: jobIds.length, elapsedMs: result.elapsedMs });
      return result;
    }
    await sleep(pollIntervalMs);
  }
}
