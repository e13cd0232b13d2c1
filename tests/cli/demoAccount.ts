/**
 * A Batch account with realistic runs of the dev stack ({@link OUTPUTS}) behind aws-sdk-client-mock, for
 * the CLI's tests and the README's screens. Every job's life is fixed in time relative to the account's
 * epoch (the fake clock when it was made) and shown as of the clock at each call, so a `watch` whose
 * sleeps move the clock sees a run progress, and every output is the same on every machine.
 *
 * Runs are planned by the orchestrator's own planner (real names, environments, array sizes) and then
 * scheduled: a step starts 3 s after its dependencies stopped, its tasks run on `slots` parallel slots
 * (array children in index order), a failed dependency fails its dependents ("Dependent Job failed").
 * What Batch does that the CLI must cope with, as documented (ListJobs and DescribeJobs API references):
 * one filter per ListJobs call, and with it `jobStatus` ignored and every status returned newest first;
 * `JOB_NAME` values case-insensitive, prefix matches only with a trailing `*`; array children listed only
 * by `arrayJobId`, one `jobStatus` at a time (RUNNING without one); pages of at most 100 with an opaque
 * `nextToken`; DescribeJobs refuses more than 100 ids; an array parent stays PENDING while its children
 * run (*Array jobs*); ListJobs is eventually consistent (a new job is listed `listLagMs` after it is
 * created); finished jobs drop out after `retentionMs` (AWS documents no period: worst case a day); and,
 * when `callsPerSecond` is set, TooManyRequestsException past that rate (DescribeJobs shares it with SubmitJob).
 */
import { createHash } from "node:crypto";
import { BatchClient, DescribeJobsCommand, ListJobsCommand, type JobDetail, type JobStatus, type JobSummary, type KeyValuePair, type ListJobsCommandInput } from "@aws-sdk/client-batch";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach } from "vitest";
import { inputEnvironment } from "../../contract";
import { computeRunId, startJobName } from "../../contract/run";
import { planWorkflow } from "../../workflow/planner";
import { parseWorkflowSpec, type WorkflowSpec } from "../../workflow/spec";
import { colors } from "../../cli/app/context";
import { batchClientError, DESCRIBE_JOBS_MAX, jobNameFilterMatches, LIST_JOBS_PAGE, newestFirst, tooManyRequests } from "../support/batchSemantics";
import { cliContext, OUTPUTS, type TestContextOptions } from "./support";

const S = 1_000;
const M = 60 * S;
const H = 60 * M;
const ARN = OUTPUTS.startQueueArn.split(":job-queue/")[0]!;

/** The stack's workflow: prepare → process (one task per MiB of the input, at most 100,000) → merge. */
export const DEMO_WORKFLOW: WorkflowSpec = parseWorkflowSpec({
  steps: [
    { name: "prepare", jobDefinition: "process", command: ["python", "prepare.py"] },
    { name: "process", jobDefinition: "process", command: ["python", "process.py"], dependsOn: ["prepare"], width: { perChunkBytes: 1_048_576, max: 100_000 } },
    { name: "merge", jobDefinition: "process", command: ["python", "merge.py"], dependsOn: ["process"] },
  ],
});

/** Why a task failed, as Batch reports it; `attempts` defaults to 3 (the job definitions' retryAttempts). */
export type DemoFailure = { reason: string; exitCode?: number; attempts?: number };

/** How a step's tasks run: `slots` at once (1,600), each `taskMs(n)` long (45 s to 75 s), `fail` by task number. */
export type StepTiming = { slots?: number; taskMs?: (task: number) => number; fail?: Record<number, DemoFailure> };

/** One run to put in the account. */
export interface DemoRunSpec {
  key: string;
  sizeBytes: number;
  versionId?: string;
  /** When the object landed (its start job was created), in ms after the account's epoch (negative: before). */
  at: number;
  /** @default DEMO_WORKFLOW */
  workflow?: WorkflowSpec;
  timing?: Record<string, StepTiming>;
  /** Start jobs made for the object: a duplicate S3 delivery makes two. @default 1 */
  startJobs?: number;
  /** The first start attempt submitted this many jobs, failed (exit 3) and terminated them; the second attempt replaced them. */
  earlierAttemptJobs?: number;
  /** The start job fails without submitting anything. */
  startFails?: DemoFailure;
  /** `orchestrator.wait`: the (first) start job waits for the DAG and stops 20 s after its last job, FAILED (exit 1) if a job failed. */
  wait?: boolean;
}

/**
 * The standard runs, by run id: `inProgress`, 100,000 tasks (10 arrays of 10,000) 14 % done at the epoch, succeeds
 * 75 minutes later; `succeeded`, 12 tasks, two start jobs (a repeated S3 event) and an earlier attempt's 2 jobs
 * replaced, ended 5 hours before; `failed`, 236 tasks of which 3 failed, so merge failed too, ended 3 hours before.
 */
export type DemoRuns = { inProgress: string; succeeded: string; failed: string };

/** One task's life (absolute ms): schedulable from `runnable` (Infinity: never), then STARTING, RUNNING, stopped. */
type Life = { runnable: number; starting?: number; running?: number; stopped: number; failure?: DemoFailure };

/** A job: `tasks` holds a plain job's one life or each array child's; `earlierExits`: a retried start job's earlier attempts. */
type DemoJob = { jobId: string; jobName: string; jobQueue: string; jobDefinition: string; environment: KeyValuePair[]; dependsOn: string[]; createdAt: number; arraySize?: number; tasks: Life[]; earlierExits?: number[] };

const uuid = (seed: string) => createHash("sha256").update(seed).digest("hex").replace(/^(.{8})(.{4})(.{4})(.{4})(.{12}).*$/, "$1-$2-$3-$4-$5");
const clientError = (message: string) => batchClientError(message);
/** 45 s to 75 s, spread deterministically over tasks. */
const defaultTaskMs = (n: number) => 45 * S + Math.round((((Math.imul(n + 1, 2654435761) >>> 0) % 1000) / 1000) * 30 * S);

/** What Batch shows of one task at time `t`. */
function statusAt(life: Life, createdAt: number, t: number): JobStatus {
  if (t < createdAt + S) return "SUBMITTED";
  if (t >= life.stopped) return life.failure ? "FAILED" : "SUCCEEDED";
  if (life.running !== undefined && t >= life.running) return "RUNNING";
  if (life.starting !== undefined && t >= life.starting) return "STARTING";
  return t >= life.runnable ? "RUNNABLE" : "PENDING";
}

/** The stateful account; {@link installDemoAccount} builds one with the standard runs. */
export class DemoAccount {
  readonly mock = mockClient(BatchClient);
  private readonly jobs: DemoJob[] = [];
  /** Every call received: command, input and the fake time it came at. */
  readonly calls: { command: "ListJobs" | "DescribeJobs"; input: object; at: number }[] = [];
  listLagMs = 3 * S;
  retentionMs = 24 * H;
  callsPerSecond = Infinity;
  private readonly perSecond = new Map<number, number>();
  /** Errors the next calls of a command answer with, one per call (a 5xx, a reset connection…). */
  readonly faults: Record<"ListJobs" | "DescribeJobs", Error[]> = { ListJobs: [], DescribeJobs: [] };

  constructor(readonly epoch: number, readonly clock: () => number) {
    this.mock.on(ListJobsCommand).callsFake((input: ListJobsCommandInput) => this.list(input));
    this.mock.on(DescribeJobsCommand).callsFake((input: { jobs?: string[] }) => this.describe(input.jobs ?? []));
  }

  /** Adds a run; resolves to its run id (the trigger's: a hash of bucket, key and version). */
  async addRun(spec: DemoRunSpec): Promise<string> {
    const input = { bucket: OUTPUTS.inputBucketName, key: spec.key, sizeBytes: spec.sizeBytes, ...(spec.versionId ? { versionId: spec.versionId } : {}) };
    const runId = await computeRunId(input);
    const at = this.epoch + spec.at;
    const attempts = spec.earlierAttemptJobs ? 2 : 1;
    const submitted = at + (attempts === 2 ? 50 * S : 28 * S);
    const plan = planWorkflow(spec.workflow ?? DEMO_WORKFLOW, { runId, input, jobDefinitions: OUTPUTS.jobDefinitionNames, jobQueue: OUTPUTS.processQueueArn, stack: "batch-pipeline-dev-628b23" });
    const startEnd = spec.startFails ? at + 35 * S : submitted + plan.jobs.length * 150 + 4 * S;
    const owner = this.jobs.length;
    for (let n = 0; n < (spec.startJobs ?? 1); n++) {
      const lag = n * 4 * S;
      const [runnable, starting, running] = [2, 8, n === 0 && attempts === 2 ? 40 : 20].map((sec) => at + lag + sec * S);
      const tasks: Life[] = [{ runnable, starting, running, stopped: n === 0 ? startEnd : at + lag + 26 * S, ...(n === 0 && spec.startFails ? { failure: spec.startFails } : {}) }];
      const environment = inputEnvironment({ ...input, eTag: "9b2cf535f27731c974343645a3985328" }, runId);
      const jobDefinition = `${ARN}:job-definition/${OUTPUTS.startJobDefinitionName}:3`;
      this.jobs.push({ jobId: uuid(`${runId} start ${n}`), jobName: startJobName(spec.key, runId), jobQueue: OUTPUTS.startQueueArn, jobDefinition, environment, dependsOn: [], createdAt: at + lag, tasks, ...(n === 0 && attempts === 2 ? { earlierExits: [3] } : {}) });
    }
    if (spec.startFails) return runId;
    const stopped = new Map<string, { at: number; failed: boolean }>();
    const earlier = spec.earlierAttemptJobs ?? 0;
    const slotsOf = new Map<string, { free: number[]; next: number }>();
    plan.jobs.forEach((job, k) => {
      const env = job.request.containerOverrides?.environment ?? [];
      const base = { jobName: job.request.jobName, jobQueue: OUTPUTS.processQueueArn, jobDefinition: `${ARN}:job-definition/${job.request.jobDefinition}:1`, environment: env, arraySize: job.request.arrayProperties?.size };
      if (k < earlier) {
        const failure = { reason: `pipeline-orchestrator: run ${runId} attempt 1: submission failed after ${earlier} of ${plan.jobs.length} jobs`, attempts: 0 };
        this.jobs.push({ ...base, jobId: uuid(`${runId} ${job.id} attempt 1`), dependsOn: [], createdAt: at + 22 * S + k * 150, tasks: [{ runnable: Infinity, stopped: at + 26 * S, failure }] });
      }
      const createdAt = submitted + k * 150;
      const deps = job.dependsOn.map((d) => stopped.get(d.id)!);
      const ready = Math.max(createdAt + 2 * S, ...deps.map((d) => d.at)) + 3 * S;
      const timing = spec.timing?.[job.step] ?? {};
      const tasks: Life[] = [];
      if (deps.some((d) => d.failed)) {
        for (let i = 0; i < job.taskCount; i++) tasks.push({ runnable: Infinity, stopped: ready - S, failure: { reason: "Dependent Job failed", attempts: 0 } });
      } else {
        // The step's tasks share its slots (array jobs of one step run side by side), taken in task order.
        const pool = `${job.step}/${job.kind}`;
        if (!slotsOf.has(pool)) slotsOf.set(pool, { free: Array.from({ length: timing.slots ?? 1_600 }, () => ready + S), next: 0 });
        const slots = slotsOf.get(pool)!;
        for (let i = 0; i < job.taskCount; i++) {
          const n = job.taskOffset + i;
          const slot = slots.next++ % slots.free.length;
          const starting = Math.max(slots.free[slot]!, ready + S) + 4 * S;
          const failure = timing.fail?.[n];
          const ms = (timing.taskMs ?? defaultTaskMs)(n) * (failure ? (failure.attempts ?? 3) : 1);
          tasks.push({ runnable: ready + S, starting, running: starting + 15 * S, stopped: starting + 15 * S + ms, ...(failure ? { failure } : {}) });
          slots.free[slot] = starting + 15 * S + ms;
        }
      }
      const end = Math.max(...tasks.map((t) => t.stopped));
      stopped.set(job.id, { at: end, failed: tasks.some((t) => t.failure) });
      this.jobs.push({ ...base, jobId: uuid(`${runId} ${job.id}`), dependsOn: job.dependsOn.map((d) => uuid(`${runId} ${d.id}`)), createdAt, tasks });
    });
    if (spec.wait) {
      const ends = [...stopped.values()];
      const failed = ends.some((e) => e.failed);
      const start = this.jobs[owner]!;
      start.tasks = [{ ...start.tasks[0]!, stopped: Math.max(...ends.map((e) => e.at)) + 20 * S, ...(failed ? { failure: { reason: "Essential container in task exited", exitCode: 1, attempts: 1 } } : {}) }];
    }
    return runId;
  }

  private visible(job: DemoJob, t: number, listing: boolean): boolean {
    const end = Math.max(...job.tasks.map((l) => l.stopped));
    return t >= job.createdAt + (listing ? this.listLagMs : 0) && !(t >= end && end < t - this.retentionMs);
  }

  private spawned = (job: DemoJob, t: number) => job.arraySize !== undefined && t >= job.tasks[0]!.runnable - S;

  private parentStatus(job: DemoJob, t: number): JobStatus {
    if (job.arraySize === undefined) return statusAt(job.tasks[0]!, job.createdAt, t);
    if (t < job.createdAt + S) return "SUBMITTED";
    if (job.tasks.every((l) => t >= l.stopped)) return job.tasks.some((l) => l.failure) ? "FAILED" : "SUCCEEDED";
    return "PENDING";
  }

  /** A job (or one array child, `index`) as DescribeJobs shows it at `t`. */
  private detail(job: DemoJob, t: number, index?: number): JobDetail {
    const child = index !== undefined;
    const life = child ? job.tasks[index]! : job.tasks[0]!;
    const status = child ? statusAt(life, -Infinity, t) : this.parentStatus(job, t);
    const jobId = child ? `${job.jobId}:${index}` : job.jobId;
    const done = status === "SUCCEEDED" || status === "FAILED";
    const array = job.arraySize !== undefined && !child;
    const lives = array ? job.tasks : [life];
    const started = lives.map((l) => l.running).filter((r): r is number => r !== undefined && r <= t);
    const logStreamName = life.starting !== undefined && t >= life.starting && !array ? `${job.jobDefinition.split("/")[1]!.split(":")[0]}/default/${uuid(jobId).replace(/-/g, "")}` : undefined;
    const exitCode = done && !array && life.running !== undefined ? (life.failure ? life.failure.exitCode : 0) : undefined;
    const reason = !done ? undefined : array ? (status === "FAILED" ? "Array Child Job failed" : undefined) : (life.failure?.reason ?? "Essential container in task exited");
    const tries = !done || array ? [] : life.running === undefined ? [] : [...(job.earlierExits ?? []), ...Array<number | undefined>(life.failure ? (life.failure.attempts ?? 3) : 1).fill(exitCode)];
    const summary: Partial<Record<JobStatus, number>> = {};
    if (array && this.spawned(job, t)) for (const l of job.tasks) {
      const s = statusAt(l, -Infinity, t);
      summary[s] = (summary[s] ?? 0) + 1;
    }
    return {
      ...{ jobArn: `${ARN}:job/${jobId}`, jobName: job.jobName, jobId, jobQueue: job.jobQueue, status },
      ...(reason ? { statusReason: reason } : {}),
      createdAt: child ? life.runnable - S : job.createdAt,
      startedAt: started.length > 0 ? Math.min(...started) : undefined,
      ...(done ? { stoppedAt: Math.max(...lives.map((l) => l.stopped)) } : {}),
      dependsOn: job.dependsOn.map((jobId) => ({ jobId })),
      jobDefinition: job.jobDefinition,
      container: { environment: job.environment, ...(exitCode !== undefined ? { exitCode } : {}), ...(logStreamName ? { logStreamName } : {}) },
      attempts: tries.map((code, k) => ({ container: { ...(code !== undefined ? { exitCode: code } : {}), ...(logStreamName ? { logStreamName } : {}) }, statusReason: k < tries.length - 1 ? "Essential container in task exited" : reason })),
      ...(array ? { arrayProperties: { size: job.arraySize, ...(this.spawned(job, t) ? { statusSummary: summary } : {}) } } : child ? { arrayProperties: { index } } : {}),
    };
  }

  private throttle(command: "ListJobs" | "DescribeJobs"): void {
    const fault = this.faults[command].shift();
    if (fault) throw fault;
    const second = Math.floor(this.clock() / S);
    const n = (this.perSecond.get(second) ?? 0) + 1;
    this.perSecond.set(second, n);
    if (n > this.callsPerSecond) throw tooManyRequests();
  }

  private list(input: ListJobsCommandInput) {
    const t = this.clock();
    this.calls.push({ command: "ListJobs", input, at: t });
    this.throttle("ListJobs");
    if ([input.jobQueue, input.arrayJobId, input.multiNodeJobId].filter(Boolean).length !== 1) throw clientError("Exactly one of jobQueue, arrayJobId or multiNodeJobId must be specified");
    if ((input.filters?.length ?? 0) > 1) throw clientError("Only one filter can be used at a time");
    let rows: JobSummary[];
    if (input.arrayJobId) {
      const job = this.jobs.find((j) => j.jobId === input.arrayJobId && j.arraySize !== undefined && this.visible(j, t, false));
      const wanted = input.jobStatus ?? "RUNNING";
      rows = !job || !this.spawned(job, t) ? [] : job.tasks.flatMap((_, i) => (statusAt(job.tasks[i]!, -Infinity, t) === wanted ? [this.summary(this.detail(job, t, i))] : []));
    } else {
      const filter = input.filters?.[0];
      const value = String(filter?.values?.[0] ?? "");
      const matches = (job: DemoJob) => {
        if (!filter) return this.parentStatus(job, t) === (input.jobStatus ?? "RUNNING");
        if (filter.name === "JOB_NAME") return jobNameFilterMatches(value, job.jobName);
        if (filter.name === "AFTER_CREATED_AT") return job.createdAt > Number(value);
        if (filter.name === "BEFORE_CREATED_AT") return job.createdAt < Number(value);
        throw clientError(`filter ${filter.name} is not supported by this fake`);
      };
      rows = newestFirst(this.jobs.filter((j) => j.jobQueue === input.jobQueue && this.visible(j, t, true) && matches(j)))
        .map((j) => this.summary(this.detail(j, t)));
    }
    const query = JSON.stringify({ ...input, nextToken: undefined, maxResults: undefined });
    const token = input.nextToken ? (JSON.parse(Buffer.from(input.nextToken, "base64url").toString()) as { q: string; o: number }) : { q: query, o: 0 };
    if (token.q !== query) throw clientError("The nextToken does not belong to this query");
    const offset = token.o;
    const size = Math.min(input.maxResults ?? LIST_JOBS_PAGE, LIST_JOBS_PAGE);
    const next = offset + size < rows.length ? Buffer.from(JSON.stringify({ q: query, o: offset + size })).toString("base64url") : undefined;
    return { jobSummaryList: rows.slice(offset, offset + size), ...(next ? { nextToken: next } : {}) };
  }

  private summary(d: JobDetail): JobSummary {
    const { jobArn, jobId, jobName, createdAt, status, statusReason, startedAt, stoppedAt, jobDefinition, arrayProperties } = d;
    return { jobArn, jobId, jobName, createdAt, status, statusReason, startedAt, stoppedAt, jobDefinition, ...(arrayProperties ? { arrayProperties } : {}), container: { exitCode: d.container?.exitCode } };
  }

  private describe(ids: string[]) {
    const t = this.clock();
    this.calls.push({ command: "DescribeJobs", input: { jobs: ids }, at: t });
    this.throttle("DescribeJobs");
    if (ids.length > DESCRIBE_JOBS_MAX) throw clientError("1 validation error detected: Value at 'jobs' failed to satisfy constraint: Member must have length less than or equal to 100");
    const jobs: JobDetail[] = [];
    for (const id of ids) {
      const [parentId, index] = id.split(":");
      const job = this.jobs.find((j) => j.jobId === parentId && this.visible(j, t, false));
      if (job && index === undefined) jobs.push(this.detail(job, t));
      else if (job && job.arraySize !== undefined && this.spawned(job, t) && Number(index) < job.arraySize) jobs.push(this.detail(job, t, Number(index)));
    }
    return { jobs };
  }

  /** Batch calls received since `from` (an index into {@link calls}), by command. */
  countSince(from = 0): { ListJobs: number; DescribeJobs: number } {
    const count = (command: string) => this.calls.slice(from).filter((c) => c.command === command).length;
    return { ListJobs: count("ListJobs"), DescribeJobs: count("DescribeJobs") };
  }
}

/** The task number of every failed task of the failed standard run. */
export const FAILED_RUN_TASKS = { 17: { reason: "Essential container in task exited", exitCode: 1 }, 42: { reason: "OutOfMemoryError: Container killed due to memory usage", exitCode: 137 }, 118: { reason: "Host EC2 (instance i-0c1d2e3f4a5b6c7d8) terminated." } } satisfies Record<number, DemoFailure>;

/** The account with the three standard runs ({@link DemoRuns}); its epoch is `ctx.now()` (a test context's fake clock). */
export async function installDemoAccount(ctx: { now(): number }): Promise<{ account: DemoAccount; runs: DemoRuns }> {
  const account = new DemoAccount(ctx.now(), () => ctx.now());
  const inProgress = await account.addRun({ key: "incoming/2026-12-01/clickstream-eu.parquet", sizeBytes: 104_857_600_000, versionId: "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY", at: -14 * M });
  const succeeded = await account.addRun({ key: "incoming/2026-12-01/orders-0001.csv", sizeBytes: 12_345_678, versionId: "Wq0Ojz3g2b.kJ5sx1mQpG4tQ7vXo8N2e", at: -5 * H, startJobs: 2, earlierAttemptJobs: 2 });
  const failed = await account.addRun({ key: "incoming/2026-11-30/invoices-2026-11.csv", sizeBytes: 246_939_648, versionId: "b7Lq2Xv0Rk9sTz.4Jc8NwE1yHm6pUa3D", at: -3 * H, timing: { process: { slots: 64, fail: FAILED_RUN_TASKS } } });
  return { account, runs: { inProgress, succeeded, failed } };
}

/** A test context on the dev stack (colour on when it is a TTY) with the standard demo account installed. */
export async function demoContext(options: TestContextOptions = {}) {
  const ctx = cliContext({ env: { BATCH_PIPELINE_STACK: "dev" }, ...options });
  if (options.isTTY) ctx.term.color = colors(true);
  return { ctx, ...(await installDemoAccount(ctx)) };
}

/**
 * For a test file on the demo account: `demo(options)` installs it in a fresh test context, `account()` is the
 * one installed last, and its mock is restored after each test.
 */
export function demoPerTest() {
  let account: DemoAccount | undefined;
  afterEach(() => account?.mock.restore());
  return {
    demo: async (options: TestContextOptions = {}) => {
      const installed = await demoContext(options);
      account = installed.account;
      return installed;
    },
    account: () => account!,
  };
}
