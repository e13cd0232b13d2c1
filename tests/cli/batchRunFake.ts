/**
 * A run of the dev stack ({@link OUTPUTS}) in a stateful fake Batch behind aws-sdk-client-mock, for the
 * `cancel` and `logs` tests: a start job and the DAG's jobs (array parents split at 10,000 tasks, plain
 * jobs, barriers) with the environment the orchestrator gives them, array children with their own log
 * streams, and TerminateJob acting as Batch documents it.
 *
 * Batch as documented, worst case where it matters (ListJobs, DescribeJobs, TerminateJob and CancelJob
 * API references; user guide "Array jobs"): ListJobs with a `JOB_NAME` filter returns every status, newest
 * first; array children are listed only by `arrayJobId`, one `jobStatus` at a time (RUNNING without one);
 * every listing comes in pages of at most 100 with a `nextToken`; DescribeJobs refuses more than 100 ids;
 * an array parent stays PENDING while children live; TerminateJob on a parent cancels only children not
 * yet STARTING or RUNNING, which must be terminated one by one, and a child moving RUNNABLE → STARTING as
 * the parent is cancelled is missed too ({@link BatchRunFake.slipThrough}); a RUNNING job terminated gets
 * SIGTERM and stays RUNNING until it stops (until {@link BatchRunFake.stopTerminated}, or with a clock
 * `killAfterMs` later, its SIGKILL; never if {@link BatchRunFake.stuck}). ListJobs is
 * eventually consistent: a job {@link BatchRunFake.submit}ted is listed only `listLagMs` after it was created.
 * With a {@link BatchRunFake.clock}, jobs start and stop at the clock's time (DescribeJobs `startedAt`,
 * `stoppedAt`, and each ended attempt's `stoppedAt`).
 */
import { DescribeJobsCommand, type JobDetail, type JobStatus, ListJobsCommand, type ListJobsCommandInput, TerminateJobCommand } from "@aws-sdk/client-batch";
import type { AwsStub } from "aws-sdk-client-mock";
import { inputEnvironment, runJobNamePrefix, startJobNamePrefix, TASK_ENV } from "../../contract";
import { batchClientError, DESCRIBE_JOBS_MAX, jobNameFilterMatches, jobNameFilterOf, listPage, newestFirst } from "../support/batchSemantics";
import { OUTPUTS } from "./support";

const ARN = OUTPUTS.startQueueArn.split(":job-queue/")[0]!;
const TERMINAL = new Set<JobStatus>(["SUCCEEDED", "FAILED"]);
const STARTED = new Set<JobStatus>(["RUNNING", "SUCCEEDED", "FAILED"]);

/** One job or array child of the fake. */
export interface FakeRunJob {
  jobId: string;
  jobName: string;
  jobQueue: string;
  status: JobStatus;
  createdAt: number;
  /** `start`, a step name, or the step a barrier fans in for. */
  step: string;
  kind: "start" | "task" | "barrier";
  /** Key of `OUTPUTS.jobDefinitionNames`, or `start`. */
  definition: string;
  environment: Record<string, string>;
  arraySize?: number;
  index?: number;
  parentId?: string;
  /** One per attempt that started, oldest first. */
  logStreams: string[];
  /** The job's own `awslogs-group` (its definition's log configuration). */
  logGroup?: string;
  statusReason?: string;
  startedAt?: number;
  stoppedAt?: number;
  /** When each attempt ended, by attempt. */
  attemptStops?: number[];
  /** ListJobs shows the job from this time on. */
  listedFrom?: number;
}

/** A step of a fake run: `width` tasks, in arrays of at most `chunk`, each task's state from `status`. */
export interface FakeStep {
  name: string;
  width: number;
  status: (task: number) => JobStatus;
  /** @default 10,000 */
  chunk?: number;
  /** Attempts that started (and have a log stream) per started task. @default 1 */
  attempts?: (task: number) => number;
  /** A barrier job fans in after the step. */
  barrier?: JobStatus;
}

export interface FakeRunSpec {
  runId: string;
  key?: string;
  start: JobStatus;
  steps: FakeStep[];
  /** Set the jobs' own `awslogs-group` (as DescribeJobs shows it from the definition). */
  logGroupOption?: boolean;
}


export class BatchRunFake {
  readonly jobs: FakeRunJob[] = [];
  readonly children = new Map<string, FakeRunJob[]>();
  /** TerminateJob calls, in order. */
  readonly terminated: { jobId: string; reason: string }[] = [];
  /** Job ids whose TerminateJob Batch refuses (AccessDeniedException). */
  readonly denyTerminate = new Set<string>();
  /** Children that TerminateJob on their parent does not cancel: they were reaching STARTING just then. */
  readonly slipThrough = new Set<string>();
  /** The time jobs start and stop at; without one, every job started 5 s and stopped 65 s after it was created. */
  clock?: () => number;
  /** How long after its creation a {@link submit}ted job is listed. */
  listLagMs = 0;
  /** Called after every ListJobs answer (a start job submitting just after a listing). */
  afterList?: (input: ListJobsCommandInput) => void;
  /** With a clock: how long a STARTING or RUNNING job terminated runs on (SIGTERM, SIGKILL 30 s later). */
  killAfterMs = 30_000;
  /** Jobs that never stop once terminated (their host is gone, and Batch has not noticed). */
  readonly stuck = new Set<string>();
  private readonly killAt = new Map<string, number>();
  private readonly index = new Map<string, FakeRunJob>();
  private created = 0;

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any client's stub
  constructor(mock: AwsStub<any, any, any>, readonly epoch = Date.parse("2026-12-01T11:00:00Z")) {
    mock.on(ListJobsCommand).callsFake((input: ListJobsCommandInput) => this.list(input));
    mock.on(DescribeJobsCommand).callsFake(({ jobs }: { jobs: string[] }) => this.describe(jobs));
    mock.on(TerminateJobCommand).callsFake(({ jobId, reason }: { jobId: string; reason: string }) => this.terminate(jobId, reason));
  }

  private job(partial: Omit<FakeRunJob, "createdAt" | "logStreams"> & { attempts?: number }): FakeRunJob {
    const n = ++this.created;
    const { attempts = 1, ...rest } = partial;
    const definition = rest.definition === "start" ? OUTPUTS.startJobDefinitionName : OUTPUTS.jobDefinitionNames[rest.definition]!;
    const streams = STARTED.has(rest.status) && rest.arraySize === undefined ? Array.from({ length: attempts }, (_, a) => `${definition}/default/${rest.jobId.replace(/\W/g, "")}a${a}`) : [];
    // 10 ms apart: the 10,001 jobs of the widest run were all created (and stopped) before the tests' 12:00.
    const job: FakeRunJob = { ...rest, createdAt: this.epoch + n * 10, logStreams: streams };
    this.index.set(job.jobId, job);
    return job;
  }

  /** A plain job of `step` that a start job of `runId` submits now (listed `listLagMs` from now). */
  submit(runId: string, step: string, status: JobStatus = "PENDING"): FakeRunJob {
    const base = this.jobs.find((j) => j.kind === "start" && j.jobName.startsWith(startJobNamePrefix(runId)))!.environment;
    const environment = { ...base, [TASK_ENV.step]: step, [TASK_ENV.taskCount]: "1", [TASK_ENV.arrayOffset]: "0" };
    const now = this.clock?.() ?? this.epoch;
    const job = this.job({ jobId: `${step}-${runId.slice(0, 6)}-late`, jobName: `${runJobNamePrefix(runId)}${step}`, jobQueue: OUTPUTS.processQueueArn, status, step, kind: "task", definition: "process", environment });
    Object.assign(job, { createdAt: now, listedFrom: now + this.listLagMs });
    this.jobs.push(job);
    return job;
  }

  /** Records a move to `status` at the clock's time: an attempt ends when a job leaves RUNNING. */
  private move(job: FakeRunJob, status: JobStatus, now = this.clock?.()): void {
    if (now !== undefined && job.status === "RUNNING" && status !== "RUNNING") job.attemptStops = [...(job.attemptStops ?? []), now];
    if (now !== undefined && status === "RUNNING" && job.status !== "RUNNING") Object.assign(job, { startedAt: now, stoppedAt: undefined });
    if (now !== undefined && TERMINAL.has(status) && !TERMINAL.has(job.status)) job.stoppedAt = now;
    job.status = status;
  }

  /** Puts a run in the account: its start job, then each step's jobs (and barriers) in dependency order. */
  addRun(spec: FakeRunSpec): this {
    const input = { bucket: OUTPUTS.inputBucketName, key: spec.key ?? "incoming/data.csv", versionId: "v1", sizeBytes: 1_000_000 };
    const base = Object.fromEntries(inputEnvironment(input, spec.runId).map((e) => [e.name, e.value]));
    const group = (definition: string) => (spec.logGroupOption ? { logGroup: `/custom/${definition}` } : {});
    const short = spec.runId.slice(0, 6);
    this.jobs.push(
      this.job({ jobId: `start-${short}`, jobName: `${startJobNamePrefix(spec.runId)}-data-csv`, jobQueue: OUTPUTS.startQueueArn, status: spec.start, step: "start", kind: "start", definition: "start", environment: base, ...group("start") }),
    );
    for (const step of spec.steps) {
      const chunk = step.chunk ?? 10_000;
      for (let offset = 0, c = 0; offset < step.width; offset += chunk, c++) {
        const size = Math.min(chunk, step.width - offset);
        const environment = { ...base, [TASK_ENV.step]: step.name, [TASK_ENV.taskCount]: String(step.width), [TASK_ENV.arrayOffset]: String(offset) };
        const jobId = `${step.name}-${short}-${c}`;
        const jobName = `${runJobNamePrefix(spec.runId)}${step.name}${step.width > chunk ? `-${c}` : ""}`;
        const common = { jobId, jobName, jobQueue: OUTPUTS.processQueueArn, step: step.name, kind: "task" as const, definition: "process", environment, ...group("process") };
        if (size === 1) {
          this.jobs.push(this.job({ ...common, status: step.status(offset), attempts: step.attempts?.(offset) ?? 1 }));
          continue;
        }
        const kids = Array.from({ length: size }, (_, i) =>
          this.job({ ...common, jobId: `${jobId}:${i}`, status: step.status(offset + i), index: i, parentId: jobId, attempts: step.attempts?.(offset + i) ?? 1 }),
        );
        this.children.set(jobId, kids);
        this.jobs.push(this.job({ ...common, status: "PENDING", arraySize: size }));
        this.settleParent(jobId);
      }
      if (step.barrier) {
        this.jobs.push(this.job({ jobId: `barrier-${step.name}-${short}`, jobName: `${runJobNamePrefix(spec.runId)}${step.name}-barrier`, jobQueue: OUTPUTS.processQueueArn, status: step.barrier, step: step.name, kind: "barrier", definition: "barrier", environment: { ...base, [TASK_ENV.step]: step.name }, ...group("barrier") }));
      }
    }
    return this;
  }

  /** An array parent finishes once every child has: SUCCEEDED if all did, else FAILED. */
  private settleParent(parentId: string): void {
    const parent = this.jobs.find((j) => j.jobId === parentId);
    const kids = this.children.get(parentId) ?? [];
    if (!parent || TERMINAL.has(parent.status) || !kids.every((k) => TERMINAL.has(k.status))) return;
    this.move(parent, kids.every((k) => k.status === "SUCCEEDED") ? "SUCCEEDED" : "FAILED");
  }

  /** Every terminated job that was still running stops now (its SIGKILL came). */
  stopTerminated(): void {
    const ids = new Set(this.terminated.map((t) => t.jobId));
    for (const job of [...this.jobs, ...[...this.children.values()].flat()]) if (ids.has(job.jobId) && !TERMINAL.has(job.status) && job.arraySize === undefined) this.move(job, "FAILED");
    for (const parentId of this.children.keys()) this.settleParent(parentId);
  }

  /**
   * Moves a job or array child to `status`, as Batch would over time: reaching RUNNING starts an attempt
   * (a new log stream), and an array parent ends once its children have.
   */
  setStatus(jobId: string, status: JobStatus): FakeRunJob {
    const job = this.find(jobId)!;
    const starts = status === "RUNNING" ? job.status !== "RUNNING" : STARTED.has(status) && job.logStreams.length === 0;
    if (job.arraySize === undefined && starts) {
      const definition = job.definition === "start" ? OUTPUTS.startJobDefinitionName : OUTPUTS.jobDefinitionNames[job.definition]!;
      job.logStreams.push(`${definition}/default/${jobId.replace(/\W/g, "")}a${job.logStreams.length}`);
    }
    this.move(job, status);
    if (job.parentId) this.settleParent(job.parentId);
    return job;
  }

  /** The job or child with this id. */
  find(jobId: string): FakeRunJob | undefined {
    return this.index.get(jobId) ?? this.jobs.find((j) => j.jobId === jobId);
  }

  /** Terminated jobs whose SIGKILL time has come stop (at that time). */
  private tick(): void {
    const now = this.clock?.() ?? -Infinity;
    for (const [id, at] of this.killAt) {
      const job = this.find(id)!;
      if (at > now || this.stuck.has(id)) continue;
      this.killAt.delete(id);
      if (!TERMINAL.has(job.status)) this.move(job, "FAILED", at);
      if (job.parentId) this.settleParent(job.parentId);
    }
  }

  private list(input: ListJobsCommandInput) {
    this.tick();
    const summary = (j: FakeRunJob) => ({ jobId: j.jobId, jobName: j.jobName, status: j.status, createdAt: j.createdAt, ...(j.statusReason ? { statusReason: j.statusReason } : {}) });
    if (input.arrayJobId) {
      const status = input.jobStatus ?? "RUNNING";
      const { items, nextToken } = listPage((this.children.get(input.arrayJobId) ?? []).filter((k) => k.status === status), input.nextToken);
      this.afterList?.(input);
      return { jobSummaryList: items.map(summary), nextToken };
    }
    const value = jobNameFilterOf(input) ?? "";
    const now = this.clock?.() ?? Infinity;
    const listed = newestFirst(this.jobs.filter((j) => j.jobQueue === input.jobQueue && jobNameFilterMatches(value, j.jobName) && (j.listedFrom ?? -Infinity) <= now));
    const { items, nextToken } = listPage(listed, input.nextToken);
    this.afterList?.(input);
    return { jobSummaryList: items.map(summary), nextToken };
  }

  private detail(j: FakeRunJob): JobDetail {
    const definition = j.definition === "start" ? OUTPUTS.startJobDefinitionName : OUTPUTS.jobDefinitionNames[j.definition]!;
    const kids = this.children.get(j.jobId);
    const summary = kids ? Object.fromEntries(["SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED"].map((s) => [s, kids.filter((k) => k.status === s).length])) : undefined;
    return {
      jobId: j.jobId,
      jobName: j.jobName,
      jobQueue: j.jobQueue,
      status: j.status,
      createdAt: j.createdAt,
      ...(STARTED.has(j.status) && !kids ? { startedAt: j.startedAt ?? j.createdAt + 5_000 } : {}),
      ...(TERMINAL.has(j.status) && (!kids || j.stoppedAt !== undefined) ? { stoppedAt: j.stoppedAt ?? j.createdAt + 65_000 } : {}),
      ...(j.statusReason ? { statusReason: j.statusReason } : {}),
      jobDefinition: `${ARN}:job-definition/${definition}:3`,
      container: {
        environment: Object.entries(j.environment).map(([name, value]) => ({ name, value })),
        ...(j.logStreams.length > 0 ? { logStreamName: j.logStreams.at(-1) } : {}),
        ...(j.logGroup ? { logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": j.logGroup } } } : {}),
      },
      ...(kids ? { arrayProperties: { size: j.arraySize!, statusSummary: summary } } : j.index !== undefined ? { arrayProperties: { index: j.index } } : {}),
      // An attempt ended unless it is the one running now.
      attempts: j.logStreams.map((logStreamName, a) => ({
        container: { logStreamName },
        ...(a < j.logStreams.length - 1 || j.status !== "RUNNING" ? { stoppedAt: j.attemptStops?.[a] ?? j.stoppedAt ?? j.createdAt + 65_000 } : {}),
      })),
    } as JobDetail;
  }

  private describe(ids: string[]) {
    this.tick();
    if (ids.length > DESCRIBE_JOBS_MAX) throw batchClientError(`jobs can contain at most ${DESCRIBE_JOBS_MAX} job IDs`);
    return { jobs: ids.map((id) => this.find(id)).filter((j): j is FakeRunJob => j !== undefined).map((j) => this.detail(j)) };
  }

  private terminate(jobId: string, reason: string) {
    if (this.denyTerminate.has(jobId)) throw batchClientError(`User: arn:aws:iam::123456789012:user/operator is not authorized to perform: batch:TerminateJob on resource: ${ARN}:job/${jobId}`, "AccessDeniedException", 403);
    this.terminated.push({ jobId, reason });
    const job = this.find(jobId);
    if (!job || TERMINAL.has(job.status)) return {};
    job.statusReason = reason;
    const kids = this.children.get(jobId);
    if (kids) {
      for (const kid of kids) if (!["STARTING", "RUNNING", "SUCCEEDED", "FAILED"].includes(kid.status) && !this.slipThrough.has(kid.jobId)) this.move(kid, "FAILED");
      this.settleParent(jobId);
    } else if (job.status !== "RUNNING" && job.status !== "STARTING") this.move(job, "FAILED");
    else if (this.clock) this.killAt.set(jobId, this.clock() + this.killAfterMs);
    if (job.parentId) this.settleParent(job.parentId);
    return {};
  }
}
