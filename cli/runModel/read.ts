/**
 * A run as Batch shows it: its start jobs and the process and barrier jobs of its DAG, found by name
 * (every name begins with the run id, contract `startJobNamePrefix` / `runJobNamePrefix`) and described,
 * grouped into steps with their state counts (array children included, from each array parent's
 * `statusSummary`). {@link fetchRun} reads a run; given the previous snapshot it re-describes only jobs
 * that can still change, so `watch` costs a few calls per poll at any width.
 *
 * Batch facts this relies on (docs/aws-batch-limits.md): ListJobs with a `JOB_NAME` filter returns every
 * status, newest first, 100 a page, and no array children; it is eventually consistent. DescribeJobs takes
 * at most 100 ids. An earlier start attempt's partial DAG may still be listed next to the DAG that
 * replaced it: the jobs carry the same names, and only the newest job of each name counts.
 */
import type { JobStatus } from "@aws-sdk/client-batch";
import { RUN_ID_PATTERN, runJobNamePrefix, startJobNamePrefix } from "../../contract";
import { type BatchApi, type BatchCommands, describeJobs, isTerminal, listArrayChildren, listJobsNamed } from "../../batch/calls";
import { CLI_EXIT, CliError } from "../app/errors";
import type { StackOutputs } from "../stack/outputs";
import { LISTING_SETTLE_MS, type RunJob, type RunSnapshot, snapshotOf, toRunJob } from "./model";


/**
 * How long Batch keeps listing a finished job. The ListJobs and DescribeJobs API references state no
 * retention period; MathWorks' AWS Batch plugin documents that Batch returns SUCCEEDED and FAILED jobs
 * only for the last 24 hours, so the CLI assumes no more. The job-state log group keeps every state change
 * for `logRetentionDays`.
 */
export const BATCH_HISTORY_NOTE = "Batch lists a finished job only for a limited time, which AWS does not document (possibly as little as 24 hours)";

/** What {@link fetchRun} needs. */
export interface RunDeps {
  batch: BatchApi;
  /** The command classes sent through `batch`. */
  commands: BatchCommands;
  now: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** Throws a {@link CliError} unless `runId` is a run id. */
export function checkRunId(runId: string): void {
  if (!RUN_ID_PATTERN.test(runId)) {
    throw new CliError(`\`${runId}\` is not a run id: run ids are 24 lowercase hex characters, as \`batch-pipeline submit\` and \`batch-pipeline runs\` print them`);
  }
}

/**
 * Batch lists no job of the run: a wrong run id, a run that ended too long ago, or (right after an upload)
 * one the trigger has not started yet, which `watch` and `runs` tell apart from other failures by this class.
 */
export class UnknownRunError extends CliError {
  constructor(
    readonly runId: string,
    outputs: Pick<StackOutputs, "startQueueArn" | "processQueueArn" | "jobStateLogGroup">,
  ) {
    super(
      `no jobs of run ${runId} on ${outputs.startQueueArn} or ${outputs.processQueueArn}: the run id is wrong, or the run ended too long ago (${BATCH_HISTORY_NOTE}); ` +
        `its job states stay in CloudWatch Logs group ${outputs.jobStateLogGroup} (Logs Insights: filter detail.jobName like "${runId}")`,
      CLI_EXIT.usage,
    );
  }
}

/** How {@link fetchRun} reads a run again. */
export interface FetchRunOptions {
  /**
   * `watch`: while a start job that `previous` knows is live, list only the process queue, not the start
   * queue (2 calls a poll instead of 3, for as long as the run lasts with `orchestrator.wait`). A start job
   * that appears meanwhile is younger than the live one, so the live one owns the run and the newcomer
   * submits nothing while it lives (jobs/ownership.ts); the process queue is still listed, since the live
   * start job may still be submitting (or a new attempt of it submitting again). On the poll that sees a
   * known start job stop, the start queue is listed after all (a namesake may own the run now), and both
   * queues are listed until {@link LISTING_SETTLE_MS} after the stop, as without this option. `cancel`
   * does not use it: it terminates start jobs that Batch lists only late as soon as it can. A run whose DAG
   * `previous` lists without any start job was submitted inline by the trigger (a start job is created
   * before the DAG it submits, so it would be listed by then): its start queue is not listed again either,
   * and its process queue is listed on every poll, since no start job's end says when the DAG is complete.
   */
  skipStartQueueWhileLive?: boolean;
}

/**
 * Reads a run from Batch. With `previous`, lists again only while the run's DAG may still grow (a start job
 * not yet ended, or ended less than {@link LISTING_SETTLE_MS} before the last listing) and describes again
 * only jobs that were not yet SUCCEEDED or FAILED.
 * @throws UnknownRunError when Batch lists no job of the run
 */
export async function fetchRun(runId: string, outputs: StackOutputs, deps: RunDeps, previous?: RunSnapshot, options: FetchRunOptions = {}): Promise<RunSnapshot> {
  checkRunId(runId);
  let calls = 0;
  const batch: BatchApi = {
    send: ((command: Parameters<BatchApi["send"]>[0]) => {
      calls++;
      return deps.batch.send(command);
    }) as BatchApi["send"],
  };
  const batchDeps = { batch, commands: deps.commands, sleep: deps.sleep };
  const lastStartStop = Math.max(0, ...(previous?.startJobs.map((s) => s.stoppedAt ?? Infinity) ?? [Infinity]));
  const mustList = !previous || previous.startJobs.length === 0 || lastStartStop === Infinity || previous.listedAt < lastStartStop + LISTING_SETTLE_MS;
  const listedAt = mustList ? deps.now() : previous!.listedAt;
  const liveStarts = previous?.startJobs.filter((s) => !isTerminal(s.status)) ?? [];
  const inline = previous !== undefined && previous.startJobs.length === 0 && previous.jobs.length > 0;
  const skipStarts = mustList && options.skipStartQueueWhileLive === true && (liveStarts.length > 0 || inline);
  const listStarts = async () => {
    const starts = await listJobsNamed(outputs.startQueueArn, `${startJobNamePrefix(runId)}*`, batchDeps);
    // Same queue for both: the prefixes never overlap, but a name filter is case-insensitive.
    return starts.filter((j) => j.jobName?.startsWith(startJobNamePrefix(runId))).map((j) => j.jobId!);
  };

  let startIds: string[];
  let dagIds: string[];
  if (mustList) {
    const [starts, dag] = await Promise.all([
      skipStarts ? previous!.startJobs.map((j) => j.jobId) : listStarts(),
      listJobsNamed(outputs.processQueueArn, `${runJobNamePrefix(runId)}*`, batchDeps),
    ]);
    startIds = starts;
    dagIds = dag.filter((j) => j.jobName?.startsWith(runJobNamePrefix(runId))).map((j) => j.jobId!);
  } else {
    startIds = previous!.startJobs.map((j) => j.jobId);
    dagIds = [...previous!.jobs.map((j) => j.jobId), ...previous!.supersededIds];
  }
  if (startIds.length === 0 && dagIds.length === 0) throw new UnknownRunError(runId, outputs);

  const known = new Map<string, RunJob>([...(previous?.startJobs ?? []), ...(previous?.jobs ?? [])].map((j) => [j.jobId, j]));
  // A superseded job never counts again (a newer job has its name): it is not described again.
  const superseded = new Set(previous?.supersededIds ?? []);
  const staleOf = (ids: readonly string[]) => ids.filter((id) => !superseded.has(id) && (!known.has(id) || !isTerminal(known.get(id)!.status)));
  const stale = staleOf([...new Set([...startIds, ...dagIds])]);
  const described = new Map((await describeJobs(stale, batchDeps)).map((d) => [d.jobId!, d]));
  if (skipStarts && liveStarts.some((s) => isTerminal(described.get(s.jobId)?.status))) {
    // A start job stopped since the last poll: list the start queue now, and describe what it brings.
    startIds = await listStarts();
    const added = staleOf(startIds.filter((id) => !described.has(id)));
    for (const d of await describeJobs(added, batchDeps)) described.set(d.jobId!, d);
  }
  const startSet = new Set(startIds);
  const pick = (id: string): RunJob | undefined => {
    const detail = described.get(id);
    if (detail) return toRunJob(detail, startSet.has(id) ? "start" : undefined);
    return known.get(id);
  };
  const startJobs = startIds.map(pick).filter((j): j is RunJob => j !== undefined);
  const dagJobs = dagIds.filter((id) => !superseded.has(id)).map(pick).filter((j): j is RunJob => j !== undefined);
  const snapshot = snapshotOf(runId, startJobs, dagJobs, listedAt, calls);
  return { ...snapshot, supersededIds: [...new Set([...superseded, ...snapshot.supersededIds])] };
}

/** One array child, described. */
export interface ChildJob {
  jobId: string;
  /** Index in its array (`AWS_BATCH_JOB_ARRAY_INDEX`). */
  index: number;
  status: JobStatus;
  statusReason?: string;
  exitCode?: number;
  logStreamName?: string;
  startedAt?: number;
  stoppedAt?: number;
  attempts: number;
}

/**
 * The children of array job `arrayJobId` in `statuses`, described (for their exit codes, reasons and log
 * streams). ListJobs lists children one status at a time (without a status it lists only RUNNING ones).
 * Stops after `limit` children.
 */
export async function listChildren(arrayJobId: string, statuses: readonly JobStatus[], deps: RunDeps, limit = Infinity): Promise<ChildJob[]> {
  const batchDeps = { batch: deps.batch, commands: deps.commands, sleep: deps.sleep };
  const ids = (await listArrayChildren(arrayJobId, statuses, batchDeps, limit)).map((j) => j.jobId!);
  const details = await describeJobs(ids.slice(0, limit), batchDeps);
  return details
    .map((d) => {
      const last = d.attempts?.at(-1);
      const exitCode = d.container?.exitCode ?? last?.container?.exitCode;
      const logStreamName = d.container?.logStreamName ?? last?.container?.logStreamName;
      return {
        jobId: d.jobId!,
        index: d.arrayProperties?.index ?? Number(d.jobId!.split(":").at(-1)),
        status: (d.status ?? "SUBMITTED") as JobStatus,
        ...(d.statusReason ? { statusReason: d.statusReason } : {}),
        ...(exitCode !== undefined ? { exitCode } : {}),
        ...(logStreamName ? { logStreamName } : {}),
        ...(d.startedAt !== undefined ? { startedAt: d.startedAt } : {}),
        ...(d.stoppedAt !== undefined ? { stoppedAt: d.stoppedAt } : {}),
        attempts: d.attempts?.length ?? 0,
      };
    })
    .sort((a, b) => a.index - b.index);
}
