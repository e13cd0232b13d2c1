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
import type { JobDetail, JobStatus } from "@aws-sdk/client-batch";
import { ListJobsCommand } from "@aws-sdk/client-batch";
import { RUN_ID_PATTERN, runJobNamePrefix, START_JOB_ENV, startJobNamePrefix, TASK_ENV } from "../contract";
import { type BatchApi, describeJobs, listJobsNamed, TERMINAL, withThrottleRetry } from "../jobs/batch";
import { CLI_EXIT, CliError } from "./errors";
import type { StackOutputs } from "./outputs";

/** Every job state, in the order a job passes through them. */
export const JOB_STATES: readonly JobStatus[] = ["SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED"];

export type StateCounts = Record<JobStatus, number>;

export const zeroCounts = (): StateCounts => Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as StateCounts;

/**
 * How long Batch keeps listing a finished job. The ListJobs and DescribeJobs API references state no
 * retention period; MathWorks' AWS Batch plugin documents that Batch returns SUCCEEDED and FAILED jobs
 * only for the last 24 hours, so the CLI assumes no more. The job-state log group keeps every state change
 * for `logRetentionDays`.
 */
export const BATCH_HISTORY_NOTE = "Batch lists a finished job only for a limited time, which AWS does not document (possibly as little as 24 hours)";

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
export type RunState = "SUBMITTING" | "WAITING" | "RUNNING" | "SUCCEEDED" | "FAILED";

/** The input object the run is for, from its start job's environment. */
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

/** What {@link fetchRun} needs. */
export interface RunDeps {
  batch: BatchApi;
  now: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** Throws a {@link CliError} unless `runId` is a run id. */
export function checkRunId(runId: string): void {
  if (!RUN_ID_PATTERN.test(runId)) {
    throw new CliError(`\`${runId}\` is not a run id: run ids are 24 lowercase hex characters, as \`batch-pipeline submit\` and \`batch-pipeline runs\` print them`);
  }
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
  if (array) {
    for (const state of JOB_STATES) counts[state] = job.arrayProperties?.statusSummary?.[state] ?? 0;
    // Children exist only once the parent leaves PENDING; until then every task is in the parent's state.
    const seen = JOB_STATES.reduce((n, s) => n + counts[s], 0);
    if (seen < size) counts[status] += size - seen;
  } else counts[status] = 1;
  const last = job.attempts?.at(-1);
  const exitCode = job.container?.exitCode ?? last?.container?.exitCode;
  const logStreamName = job.container?.logStreamName ?? last?.container?.logStreamName;
  return {
    jobId: job.jobId!,
    jobName: job.jobName!,
    kind: resolvedKind,
    step: resolvedKind === "start" ? "start" : (env[TASK_ENV.step] ?? "?"),
    status,
    ...(job.statusReason ? { statusReason: job.statusReason } : {}),
    ...(job.createdAt !== undefined ? { createdAt: job.createdAt } : {}),
    ...(job.startedAt !== undefined ? { startedAt: job.startedAt } : {}),
    ...(job.stoppedAt !== undefined ? { stoppedAt: job.stoppedAt } : {}),
    taskOffset: Number(env[TASK_ENV.arrayOffset] ?? 0),
    taskCount: array ? size! : 1,
    array,
    counts,
    ...(exitCode !== undefined ? { exitCode } : {}),
    ...(logStreamName ? { logStreamName } : {}),
    attempts: job.attempts?.length ?? 0,
    dependsOn: (job.dependsOn ?? []).map((d) => d.jobId!).filter(Boolean),
    jobDefinition: job.jobDefinition ?? "",
    environment: env,
  };
}

const isTerminal = (status: JobStatus | undefined) => TERMINAL.has(status);

function sumCounts(jobs: readonly RunJob[]): StateCounts {
  const total = zeroCounts();
  for (const job of jobs) for (const state of JOB_STATES) total[state] += job.counts[state];
  return total;
}

function stateOf(jobs: readonly RunJob[]): RunState {
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

function inputOf(start: RunJob | undefined): RunInput | undefined {
  const env = start?.environment;
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
  }
  const created = [...starts, ...jobs].map((j) => j.createdAt).filter((t): t is number => t !== undefined);
  const stopped = jobs.map((j) => j.stoppedAt).filter((t): t is number => t !== undefined);
  return {
    runId,
    ...(inputOf(starts[0]) ? { input: inputOf(starts[0]) } : {}),
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

/** The message for a run Batch does not list. */
export function unknownRunError(runId: string, outputs: StackOutputs): CliError {
  return new CliError(
    `no jobs of run ${runId} on ${outputs.startQueueArn} or ${outputs.processQueueArn}: the run id is wrong, or the run ended too long ago (${BATCH_HISTORY_NOTE}); ` +
      `its job states stay in CloudWatch Logs group ${outputs.jobStateLogGroup} (Logs Insights: filter detail.jobName like "${runId}")`,
    CLI_EXIT.usage,
  );
}

/**
 * Reads a run from Batch. With `previous`, lists again only while the run's DAG may still grow (a start job
 * not yet ended, or ended less than {@link LISTING_SETTLE_MS} before the last listing) and describes again
 * only jobs that were not yet SUCCEEDED or FAILED.
 * @throws CliError when Batch lists no job of the run
 */
export async function fetchRun(runId: string, outputs: StackOutputs, deps: RunDeps, previous?: RunSnapshot): Promise<RunSnapshot> {
  checkRunId(runId);
  let calls = 0;
  const batch: BatchApi = {
    send: ((command: Parameters<BatchApi["send"]>[0]) => {
      calls++;
      return deps.batch.send(command);
    }) as BatchApi["send"],
  };
  const batchDeps = { batch, sleep: deps.sleep };
  const lastStartStop = Math.max(0, ...(previous?.startJobs.map((s) => s.stoppedAt ?? Infinity) ?? [Infinity]));
  const mustList = !previous || previous.startJobs.length === 0 || lastStartStop === Infinity || previous.listedAt < lastStartStop + LISTING_SETTLE_MS;
  const listedAt = mustList ? deps.now() : previous!.listedAt;

  let startIds: string[];
  let dagIds: string[];
  if (mustList) {
    const [starts, dag] = await Promise.all([
      listJobsNamed(outputs.startQueueArn, `${startJobNamePrefix(runId)}*`, batchDeps),
      listJobsNamed(outputs.processQueueArn, `${runJobNamePrefix(runId)}*`, batchDeps),
    ]);
    // Same queue for both: the prefixes never overlap, but a name filter is case-insensitive.
    startIds = starts.filter((j) => j.jobName?.startsWith(startJobNamePrefix(runId))).map((j) => j.jobId!);
    dagIds = dag.filter((j) => j.jobName?.startsWith(runJobNamePrefix(runId))).map((j) => j.jobId!);
  } else {
    startIds = previous!.startJobs.map((j) => j.jobId);
    dagIds = [...previous!.jobs.map((j) => j.jobId), ...previous!.supersededIds];
  }
  if (startIds.length === 0 && dagIds.length === 0) throw unknownRunError(runId, outputs);

  const known = new Map<string, RunJob>([...(previous?.startJobs ?? []), ...(previous?.jobs ?? [])].map((j) => [j.jobId, j]));
  // A superseded job never counts again (a newer job has its name): it is not described again.
  const superseded = new Set(previous?.supersededIds ?? []);
  const stale = [...new Set([...startIds, ...dagIds])].filter((id) => !superseded.has(id) && (!known.has(id) || !isTerminal(known.get(id)!.status)));
  const described = new Map((await describeJobs(stale, batchDeps)).map((d) => [d.jobId!, d]));
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
  const batchDeps = { batch: deps.batch, sleep: deps.sleep };
  const ids: string[] = [];
  for (const jobStatus of statuses) {
    let nextToken: string | undefined;
    do {
      const page = await withThrottleRetry(() => deps.batch.send(new ListJobsCommand({ arrayJobId, jobStatus, nextToken })), batchDeps, "ListJobs");
      ids.push(...(page.jobSummaryList ?? []).map((j) => j.jobId!));
      nextToken = page.nextToken;
    } while (nextToken && ids.length < limit);
    if (ids.length >= limit) break;
  }
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
