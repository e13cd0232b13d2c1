/**
 * Where a run's container output is: one CloudWatch Logs stream per started attempt of each job or
 * array child, in its job definition's log group. {@link LogSources} finds them from the run's jobs
 * (cli/runModel/read.ts `fetchRun`) and keeps what it found, so that `logs --follow` describes only what changed:
 * a plain job when its state changed, an array's children as they show up RUNNING (ListJobs lists
 * children one status at a time; every child passes through RUNNING), and every SUCCEEDED or FAILED child
 * once more when its parent ends (or when the parent's counts say one was missed, at most once a minute),
 * so that an attempt that started and ended between two polls is still found. A child described RUNNING
 * that a later RUNNING listing no longer shows is described again: it ended (its stream is complete once
 * read past its `stoppedAt`, {@link LogSources.stopOf}) or went back to RUNNABLE for another attempt.
 *
 * Batch facts (DescribeJobs API reference, user guide "Using the awslogs log driver"): a job's
 * `container.logStreamName` is its latest attempt's stream, each `attempts[].container.logStreamName` an
 * earlier one's; a job that never reached RUNNING has none. The log group is the job's own `awslogs-group`
 * option when its definition sets one, else Batch's default `/aws/batch/job`.
 */
import type { JobDetail, JobStatus } from "@aws-sdk/client-batch";
import { TASK_ENV } from "../../contract";
import { type BatchDeps, describeJobs, isTerminal, listArrayChildren } from "../../batch/calls";
import { CliError } from "../app/errors";
import type { StackOutputs } from "../stack/outputs";
import type { RunJob, RunSnapshot } from "../runModel/model";

/** Batch's log group for awslogs when a job definition names none (user guide, "Using the awslogs log driver"). */
export const BATCH_DEFAULT_LOG_GROUP = "/aws/batch/job";

/** How often at most a live array's finished children are listed again when its counts say one was missed. */
export const FULL_LISTING_INTERVAL_MS = 60_000;

/** One log stream and whose output it is. */
export interface LogSource {
  group: string;
  stream: string;
  step: string;
  /** The task's number in its step (`PIPELINE_ARRAY_OFFSET` + array index); none for a step of one task and start jobs. */
  task?: number;
  jobId: string;
}

/** Which jobs to read: a step, a task of it, or all. */
export interface LogSelection {
  step?: string;
  task?: number;
}

/**
 * The log group of a described job: its own `awslogs-group` option, else the group the stack made for
 * its job definition (the definition's name mapped back to its key in `jobDefinitionNames`; the start
 * job's definition to `logGroupNames.start`), else Batch's default.
 */
export function logGroupOf(detail: JobDetail, outputs: Pick<StackOutputs, "jobDefinitionNames" | "startJobDefinitionName" | "logGroupNames">): string {
  const own = detail.container?.logConfiguration?.options?.["awslogs-group"];
  if (own) return own;
  const name = (detail.jobDefinition ?? "").replace(/^arn:[^:]+:batch:[^:]*:\d*:job-definition\//, "").replace(/:\d+$/, "");
  if (name === outputs.startJobDefinitionName && outputs.logGroupNames.start) return outputs.logGroupNames.start;
  const key = Object.entries(outputs.jobDefinitionNames).find(([, n]) => n === name)?.[0];
  return (key !== undefined ? outputs.logGroupNames[key] : undefined) ?? BATCH_DEFAULT_LOG_GROUP;
}

/** The key of a stream in {@link LogSources.sources}: log group and stream name. */
export const sourceKey = (source: Pick<LogSource, "group" | "stream">) => `${source.group}\u0000${source.stream}`;

/** Every stream of a described job: its attempts' and its latest one's. */
function streamsOf(detail: JobDetail): string[] {
  const names = [...(detail.attempts ?? []).map((a) => a.container?.logStreamName), detail.container?.logStreamName];
  return [...new Set(names.filter((n): n is string => Boolean(n)))];
}

/** The jobs of the run that `selection` asks for (barriers run no code of the workflow's, so they are left out). */
export function selectJobs(snapshot: RunSnapshot, selection: LogSelection): RunJob[] {
  const all = [...snapshot.startJobs, ...snapshot.jobs.filter((j) => j.kind === "task")];
  if (selection.step === undefined) return all;
  const steps = ["start", ...snapshot.steps.map((s) => s.name)];
  if (!steps.includes(selection.step)) throw new CliError(`run ${snapshot.runId} has no step \`${selection.step}\`; its steps: ${steps.join(", ")}`);
  const jobs = all.filter((j) => j.step === selection.step);
  if (selection.task === undefined) return jobs;
  const job = jobs.find((j) => selection.task! >= j.taskOffset && selection.task! < j.taskOffset + j.taskCount);
  if (!job) {
    const width = jobs.reduce((n, j) => Math.max(n, j.taskOffset + j.taskCount), 0);
    throw new CliError(`step \`${selection.step}\` of run ${snapshot.runId} has tasks 0 to ${width - 1}, not ${selection.task}`);
  }
  return [job];
}

/** States in which a job or child has no log stream yet. */
export const NOT_STARTED: ReadonlySet<JobStatus> = new Set<JobStatus>(["SUBMITTED", "PENDING", "RUNNABLE", "STARTING"]);

/** Tasks of `jobs` that have not started (so have no log stream yet), per step, array children included. */
export function notStartedByStep(jobs: readonly RunJob[]): Map<string, { waiting: number; total: number }> {
  const byStep = new Map<string, { waiting: number; total: number }>();
  for (const job of jobs) {
    const entry = byStep.get(job.step) ?? { waiting: 0, total: 0 };
    entry.waiting += [...NOT_STARTED].reduce((n, s) => n + job.counts[s], 0);
    entry.total += job.taskCount;
    byStep.set(job.step, entry);
  }
  return byStep;
}

interface ArrayState {
  /** Children described, by id, with the state they were described in. */
  children: Map<string, JobStatus>;
  lastFullListing?: number;
  finished: boolean;
}

/** The run's log streams found so far; {@link update} finds the new ones. */
export class LogSources {
  readonly sources = new Map<string, LogSource>();
  /** By {@link sourceKey}: when the attempt that wrote the stream stopped, once a description says so. */
  private readonly stops = new Map<string, number>();
  private readonly described = new Map<string, JobStatus>();
  private readonly arrays = new Map<string, ArrayState>();

  constructor(
    private readonly outputs: StackOutputs,
    private readonly deps: BatchDeps & { now: () => number },
  ) {}

  private add(detail: JobDetail, job: RunJob, task: number | undefined): LogSource[] {
    const group = logGroupOf(detail, this.outputs);
    const added: LogSource[] = [];
    for (const stream of streamsOf(detail)) {
      const id = sourceKey({ group, stream });
      if (this.sources.has(id)) continue;
      const source: LogSource = { group, stream, step: job.step, ...(task !== undefined ? { task } : {}), jobId: detail.jobId! };
      this.sources.set(id, source);
      added.push(source);
    }
    this.recordStops(detail, group);
    return added;
  }

  /**
   * An earlier attempt's stream ended with that attempt (`attempts[].stoppedAt`); a job that is SUCCEEDED
   * or FAILED writes to none of its streams any more (DescribeJobs API reference, AttemptDetail, JobDetail).
   */
  private recordStops(detail: JobDetail, group: string): void {
    for (const attempt of detail.attempts ?? []) {
      const stream = attempt.container?.logStreamName;
      if (stream && attempt.stoppedAt !== undefined) this.stops.set(sourceKey({ group, stream }), attempt.stoppedAt);
    }
    if (!isTerminal(detail.status)) return;
    for (const stream of streamsOf(detail)) {
      const id = sourceKey({ group, stream });
      if (!this.stops.has(id)) this.stops.set(id, detail.stoppedAt ?? this.deps.now());
    }
  }

  /** When the attempt that writes `source` stopped (no later line can come), if a description said so. */
  stopOf(source: Pick<LogSource, "group" | "stream">): number | undefined {
    return this.stops.get(sourceKey(source));
  }

  /**
   * The children of `parent` in `statuses` whose state changed since they were last described, and those
   * described RUNNING that the RUNNING listing no longer shows (they ended, or wait for another attempt).
   */
  private async changedChildren(parent: RunJob, statuses: readonly JobStatus[], state: ArrayState): Promise<string[]> {
    const ids = new Set<string>();
    const running = new Set<string>();
    for (const child of await listArrayChildren(parent.jobId, statuses, this.deps)) {
      if (child.status === "RUNNING") running.add(child.jobId!);
      if (state.children.get(child.jobId!) !== child.status) ids.add(child.jobId!);
    }
    for (const [id, status] of state.children) if (status === "RUNNING" && !running.has(id)) ids.add(id);
    return [...ids];
  }

  /**
   * Finds the streams of `jobs` (from {@link selectJobs}) not found before; `task` limits an array job to
   * that one child. Returns the new ones.
   */
  async update(jobs: readonly RunJob[], selection: LogSelection): Promise<LogSource[]> {
    const added: LogSource[] = [];
    // Tasks are numbered in steps of more than one task; a start job or a step of one has no number.
    const numbered = (job: RunJob, index: number) => (job.kind === "task" && Number(job.environment[TASK_ENV.taskCount] ?? 1) > 1 ? job.taskOffset + index : undefined);
    // Plain jobs whose state changed, and array children asked for by number.
    const plain = jobs.filter((j) => !j.array && this.described.get(j.jobId) !== j.status);
    const single = selection.task !== undefined ? jobs.filter((j) => j.array).map((j) => ({ job: j, id: `${j.jobId}:${selection.task! - j.taskOffset}` })) : [];
    const singleIds = single.filter((s) => !isTerminal(this.described.get(s.id))).map((s) => s.id);
    const details = new Map((await describeJobs([...plain.map((j) => j.jobId), ...singleIds], this.deps)).map((d) => [d.jobId!, d]));
    for (const job of plain) {
      const detail = details.get(job.jobId);
      if (!detail) continue;
      this.described.set(job.jobId, (detail.status ?? job.status) as JobStatus);
      added.push(...this.add(detail, job, numbered(job, 0)));
    }
    for (const { job, id } of single) {
      const detail = details.get(id);
      if (!detail) continue;
      this.described.set(id, detail.status as JobStatus);
      added.push(...this.add(detail, job, selection.task));
    }
    if (selection.task !== undefined) return added;

    for (const parent of jobs.filter((j) => j.array)) {
      const state: ArrayState = this.arrays.get(parent.jobId) ?? { children: new Map(), finished: false };
      this.arrays.set(parent.jobId, state);
      if (state.finished) continue;
      const ended = isTerminal(parent.status);
      const started = parent.counts.RUNNING + parent.counts.SUCCEEDED + parent.counts.FAILED;
      const missed = started > state.children.size;
      const now = this.deps.now();
      const full = ended || (missed && (state.lastFullListing === undefined || now - state.lastFullListing >= FULL_LISTING_INTERVAL_MS));
      const ids = await this.changedChildren(parent, full ? ["RUNNING", "SUCCEEDED", "FAILED"] : ["RUNNING"], state);
      if (full) state.lastFullListing = now;
      for (const detail of await describeJobs(ids, this.deps)) {
        state.children.set(detail.jobId!, detail.status as JobStatus);
        const index = detail.arrayProperties?.index ?? Number(detail.jobId!.split(":").at(-1));
        added.push(...this.add(detail, parent, numbered(parent, index)));
      }
      if (ended) state.finished = true;
    }
    return added;
  }

  /** The state the job or array child `jobId` was last described in, if it was. */
  statusOf(jobId: string): JobStatus | undefined {
    return this.described.get(jobId);
  }
}
