/**
 * A run's failures as the screens show them: every failed job, and the first failed children of the first
 * failing array jobs, described ({@link collectFailures}; the local run lists its own the same way, to the
 * same limits); the run and its failures as one JSON value; the exit code a run's state means.
 */
import { awsCall, CLI_EXIT } from "../app/errors";
import type { RunSnapshot } from "./model";
import { listChildren, type RunDeps } from "./read";
import { type JobFailure, jobLogsCommand, logsCommand } from "./screen";

/** Failed children described per array job: enough to see the pattern, a handful of Batch calls. */
export const FAILED_CHILDREN_SHOWN = 5;
/** Array jobs whose failed children are listed (2 calls each); the others show their counts only. */
export const FAILED_ARRAYS_LISTED = 5;

/**
 * Every failed job of the run (start jobs first) and every array job with failed children, with the
 * first {@link FAILED_CHILDREN_SHOWN} failed children of the first {@link FAILED_ARRAYS_LISTED} such
 * array jobs that ran. An array job that never ran (a failed dependency) has no children to list.
 */
export async function collectFailures(snapshot: RunSnapshot, deps: RunDeps): Promise<JobFailure[]> {
  const failing = [...snapshot.startJobs, ...snapshot.jobs].filter((j) => j.status === "FAILED" || (j.array && j.counts.FAILED > 0));
  let listed = 0;
  const failures: JobFailure[] = [];
  for (const job of failing) {
    if (!job.array) {
      failures.push({ job, failedTasks: 1, children: [], listed: false });
      continue;
    }
    const list = job.spawned > 0 && listed++ < FAILED_ARRAYS_LISTED;
    const children = list ? await awsCall("Batch ListJobs/DescribeJobs", () => listChildren(job.jobId, ["FAILED"], deps, FAILED_CHILDREN_SHOWN)) : [];
    failures.push({ job, failedTasks: job.counts.FAILED, children, listed: list });
  }
  return failures;
}

/** The run and its failures as one JSON value: the snapshot, plus each failure with task numbers and log commands. */
export function statusJson(snapshot: RunSnapshot, failures: readonly JobFailure[], stack?: string) {
  return {
    ...snapshot,
    failures: failures.map(({ job, failedTasks, children }) => ({
      jobId: job.jobId,
      jobName: job.jobName,
      step: job.step,
      kind: job.kind,
      status: job.status,
      ...(job.statusReason ? { statusReason: job.statusReason } : {}),
      ...(job.exitCode !== undefined ? { exitCode: job.exitCode } : {}),
      failedTasks,
      ...(jobLogsCommand(job, snapshot.runId, stack) ? { logs: jobLogsCommand(job, snapshot.runId, stack) } : {}),
      children: children.map((child) => ({ ...child, task: job.taskOffset + child.index, logs: logsCommand(snapshot.runId, job.step, job.taskOffset + child.index, stack) })),
    })),
  };
}

/** The exit code a run's state means: 1 once it failed, else 0 (succeeded, or still going). */
export const exitCodeOf = (snapshot: RunSnapshot): number => (snapshot.state === "FAILED" ? CLI_EXIT.failed : CLI_EXIT.ok);
