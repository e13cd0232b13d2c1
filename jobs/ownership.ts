/**
 * Which of a run's start jobs owns it, that is, may submit its DAG. Batch has no conditional create, so
 * two start jobs of one run listing at the same moment would both submit: only the owner goes on.
 */
import type { JobSummary } from "@aws-sdk/client-batch";
import { isTerminal, listJobsNamed, withThrottleRetry, type BatchDeps } from "../batch/calls";

/** A start job as far as deciding which one owns a run is concerned. */
export type StartJobRef = Pick<JobSummary, "jobId" | "createdAt" | "status">;

/**
 * Pure: the start job that owns the run, when it is not `own`. Every start job of one run has the same
 * name. The oldest live one owns the run (ties broken by job id). Finished ones do not count: one that
 * SUCCEEDED either submitted the DAG (which `submitPlan` then finds) or stood aside as a duplicate,
 * and one that FAILED gave up. Returns undefined when `own` is the owner.
 */
export function startJobOwner(own: StartJobRef, namesakes: readonly StartJobRef[]): StartJobRef | undefined {
  const key = (j: StartJobRef) => [j.createdAt ?? Number.MAX_SAFE_INTEGER, j.jobId ?? ""] as const;
  const before = (a: StartJobRef, b: StartJobRef) => {
    const [ta, ia] = key(a);
    const [tb, ib] = key(b);
    return ta < tb || (ta === tb && ia < ib);
  };
  let owner: StartJobRef | undefined;
  for (const job of namesakes) {
    // Live: may still submit (or be submitting) the run's DAG.
    if (job.jobId === own.jobId || job.status === undefined || isTerminal(job.status)) continue;
    if (before(job, own) && (!owner || before(job, owner))) owner = job;
  }
  return owner;
}

/**
 * Another start job of the same run that owns it, or undefined when this one (`ownJobId`) does.
 *
 * Normally a run has one start job (the trigger deduplicates events). A second one appears when the
 * trigger's SubmitJob reached Batch but its response was lost and Lambda retried; run at the same
 * time, both would find no DAG and both would submit one. So each start job looks for namesakes on its
 * own queue first, and only the oldest live one goes on.
 */
export async function findOwningStartJob(ownJobId: string, deps: BatchDeps): Promise<StartJobRef | undefined> {
  const described = await withThrottleRetry(() => deps.batch.send(new deps.commands.DescribeJobsCommand({ jobs: [ownJobId] })), deps, "DescribeJobs");
  const own = described.jobs?.[0];
  if (!own?.jobName || !own.jobQueue) throw new Error(`DescribeJobs did not return this start job (${ownJobId})`);
  const namesakes = await listJobsNamed(own.jobQueue, own.jobName, deps);
  return startJobOwner(own, namesakes);
}
