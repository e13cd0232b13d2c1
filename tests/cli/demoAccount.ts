/**
 * A Batch account with realistic runs of the dev stack ({@link OUTPUTS}), for the CLI's tests and the
 * README's screens: the Batch model (tests/support/batchModel.ts) behind aws-sdk-client-mock, on the test
 * context's clock, with the demo's timeline. Every job's life is fixed in time relative to the account's
 * epoch (the fake clock when it was made) and shown as of the clock at each call, so a `watch` whose sleeps
 * move the clock sees a run progress, and every output is the same on every machine.
 *
 * Runs are planned by the orchestrator's own planner (real names, environments, array sizes) and then
 * scheduled: a step starts 3 s after its dependencies stopped, its tasks run on `slots` parallel slots
 * (array children in index order), a failed dependency fails its dependents ("Dependent Job failed"). A
 * run is planned and scheduled only when a call first needs it (a ListJobs by a name of the run, or any
 * other call): a test that never reaches Batch, or reads one run, does not pay for the 100,000 tasks of
 * another. What Batch does that the CLI must cope with is the model's (ListJobs' one filter, pages of 100,
 * children by status, DescribeJobs' 100 ids, parents PENDING while children run); the demo's choices: a
 * new job is listed `listLagMs` (3 s) after it is created, finished jobs drop out after `retentionMs` (a
 * day), and with `callsPerSecond` set, ListJobs and DescribeJobs share that rate.
 */
import { createHash } from "node:crypto";
import { BatchClient, type KeyValuePair } from "@aws-sdk/client-batch";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach } from "vitest";
import { inputEnvironment, runJobNamePrefix, startJobNamePrefix } from "../../contract";
import { computeRunId, startJobName } from "../../contract/run";
import { planWorkflow } from "../../workflow/planner";
import { parseWorkflowSpec, type WorkflowSpec } from "../../workflow/spec";
import { colors } from "../../cli/app/context";
import { type Attempt, BatchModel, type Life, mockBatchModel, type ModelJob } from "../support/batchModel";
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
  /**
   * `orchestrator.mode` inline: the trigger planned and submitted the DAG itself, so the run has no start job;
   * its jobs are created from `at` on (150 ms apart, as every run's).
   */
  inline?: boolean;
  /** `orchestrator.wait`: the (first) start job waits for the DAG and stops 20 s after its last job, FAILED (exit 1) if a job failed. */
  wait?: boolean;
}

/**
 * The standard runs, by run id: `inProgress`, 100,000 tasks (10 arrays of 10,000) 14 % done at the epoch, succeeds
 * 75 minutes later; `succeeded`, 12 tasks, two start jobs (a repeated S3 event) and an earlier attempt's 2 jobs
 * replaced, ended 5 hours before; `failed`, 236 tasks of which 3 failed, so merge failed too, ended 3 hours before.
 */
export type DemoRuns = { inProgress: string; succeeded: string; failed: string };

const uuid = (seed: string) => createHash("sha256").update(seed).digest("hex").replace(/^(.{8})(.{4})(.{4})(.{4})(.{12}).*$/, "$1-$2-$3-$4-$5");
/** 45 s to 75 s, spread deterministically over tasks. */
const defaultTaskMs = (n: number) => 45 * S + Math.round((((Math.imul(n + 1, 2654435761) >>> 0) % 1000) / 1000) * 30 * S);

/**
 * A task's life in the model: a job is SUBMITTED for its first second (an array child never is: it is
 * PENDING from its spawn), PENDING until schedulable (`runnable`: Infinity, never), then STARTING, RUNNING
 * and stopped, with its failure's reason or "Essential container in task exited". One object shape for all,
 * without spreads: the 100,000 tasks of a run are made in a few milliseconds.
 */
function lifeOf(runnable: number, starting: number | undefined, running: number | undefined, stopped: number, failure: DemoFailure | undefined, pending = -Infinity): Life {
  return {
    pending,
    runnable: runnable === Infinity ? undefined : runnable,
    starting,
    running,
    stopped,
    failed: failure !== undefined,
    reason: failure?.reason ?? "Essential container in task exited",
  };
}

/** The stateful account; {@link installDemoAccount} builds one with the standard runs. */
export class DemoAccount {
  readonly mock = mockClient(BatchClient);
  readonly model: BatchModel;
  /** Tasks that failed (their reason, exit code and attempts), by job or by child id, and a retried start job's earlier exit codes. */
  private readonly failures = new WeakMap<ModelJob, DemoFailure>();
  private readonly childFailures = new Map<string, DemoFailure>();
  private readonly earlierExits = new WeakMap<ModelJob, number[]>();

  constructor(readonly epoch: number, readonly clock: () => number) {
    this.model = mockBatchModel(
      this.mock,
      new BatchModel({ clock: { now: clock }, listLagMs: 3 * S, retentionMs: 24 * H, recordCalls: true, attemptsOf: (job) => this.attemptsOf(job) }),
    );
  }

  /** Every call received: command, input and the fake time it came at. */
  get calls() {
    return this.model.calls;
  }

  /** Batch calls received since `from` (an index into {@link calls}), by command. */
  countSince(from = 0) {
    return this.model.countSince(from);
  }

  get listLagMs(): number {
    return this.model.listLagMs;
  }
  set listLagMs(ms: number) {
    this.model.listLagMs = ms;
  }

  get retentionMs(): number {
    return this.model.retentionMs;
  }
  set retentionMs(ms: number) {
    this.model.retentionMs = ms;
  }

  /** ListJobs and DescribeJobs past this many calls a second answer TooManyRequestsException. */
  set callsPerSecond(perSecond: number) {
    this.model.throttle = { perSecond, operations: ["ListJobs", "DescribeJobs"] };
  }

  /**
   * A task's attempts, once it ran: a retried start job's earlier ones, then one per try (3 for a failed
   * task unless it says), each ending with the task's exit code; its one log stream exists from STARTING.
   */
  private attemptsOf(job: ModelJob): Attempt[] {
    const life = job.life;
    if (life.running === undefined) return [];
    const failure = job.parent ? this.childFailures.get(job.jobId) : this.failures.get(job);
    const exitCode = failure ? failure.exitCode : 0;
    const tries = [...(this.earlierExits.get(job) ?? []), ...Array<number | undefined>(failure ? (failure.attempts ?? 3) : 1).fill(exitCode)];
    const logStreamName = `${(job.parent ?? job).jobDefinition!.split("/")[1]!.split(":")[0]}/default/${uuid(job.jobId).replace(/-/g, "")}`;
    return tries.map((code, k) => ({
      startedAt: life.starting!,
      stoppedAt: life.stopped,
      ...(code !== undefined ? { exitCode: code } : {}),
      logStreamName,
      statusReason: k < tries.length - 1 ? "Essential container in task exited" : life.reason,
    }));
  }

  /**
   * A plain job (one life: its `pending` is set here), or an array parent and its children (one life
   * each, spawned when the first is schedulable); `failures` by task index.
   */
  private addJob(job: { jobId: string; jobName: string; jobQueue: string; jobDefinition: string; environment: KeyValuePair[]; dependsOn: string[]; createdAt: number; arraySize?: number; lives: Life[]; failures?: Map<number, DemoFailure> }): ModelJob {
    const { lives, failures, arraySize, environment, dependsOn, ...rest } = job;
    const array = arraySize !== undefined;
    const life = array ? { pending: job.createdAt + S } : { ...lives[0]!, pending: job.createdAt + S };
    const added = this.model.add({ ...rest, life, container: { environment }, dependsOn: dependsOn.map((jobId) => ({ jobId })) });
    if (!array) {
      if (failures?.has(0)) this.failures.set(added, failures.get(0)!);
      return added;
    }
    added.arraySize = arraySize;
    this.model.addChildren(added, { lives, createdAt: (i) => (lives[i]!.runnable ?? Infinity) - S }, (lives[0]!.runnable ?? Infinity) - S);
    for (const [i, failure] of failures ?? []) this.childFailures.set(`${added.jobId}:${i}`, failure);
    return added;
  }

  /** Adds a run, planned and scheduled when a call first needs it; resolves to its run id (the trigger's: a hash of bucket, key and version). */
  async addRun(spec: DemoRunSpec): Promise<string> {
    const input = { bucket: OUTPUTS.inputBucketName, key: spec.key, sizeBytes: spec.sizeBytes, ...(spec.versionId ? { versionId: spec.versionId } : {}) };
    const runId = await computeRunId(input);
    this.model.lazy([startJobNamePrefix(runId), runJobNamePrefix(runId)], () => this.build(spec, runId, input));
    return runId;
  }

  private build(spec: DemoRunSpec, runId: string, input: { bucket: string; key: string; sizeBytes: number; versionId?: string }): void {
    const at = this.epoch + spec.at;
    const attempts = spec.earlierAttemptJobs ? 2 : 1;
    const submitted = spec.inline ? at : at + (attempts === 2 ? 50 * S : 28 * S);
    const plan = planWorkflow(spec.workflow ?? DEMO_WORKFLOW, { runId, input, jobDefinitions: OUTPUTS.jobDefinitionNames, jobQueue: OUTPUTS.processQueueArn, stack: "batch-pipeline-dev-628b23" });
    const startEnd = spec.startFails ? at + 35 * S : submitted + plan.jobs.length * 150 + 4 * S;
    let owner: ModelJob | undefined;
    for (let n = 0; n < (spec.inline ? 0 : (spec.startJobs ?? 1)); n++) {
      const lag = n * 4 * S;
      const [runnable, starting, running] = [2, 8, n === 0 && attempts === 2 ? 40 : 20].map((sec) => at + lag + sec * S);
      const failure = n === 0 ? spec.startFails : undefined;
      const lives = [lifeOf(runnable!, starting, running, n === 0 ? startEnd : at + lag + 26 * S, failure)];
      const environment = inputEnvironment({ ...input, eTag: "9b2cf535f27731c974343645a3985328" }, runId);
      const jobDefinition = `${ARN}:job-definition/${OUTPUTS.startJobDefinitionName}:3`;
      const start = this.addJob({ jobId: uuid(`${runId} start ${n}`), jobName: startJobName(spec.key, runId), jobQueue: OUTPUTS.startQueueArn, jobDefinition, environment, dependsOn: [], createdAt: at + lag, lives, ...(failure ? { failures: new Map([[0, failure]]) } : {}) });
      if (n === 0 && attempts === 2) this.earlierExits.set(start, [3]);
      owner ??= start;
    }
    if (spec.startFails) return;
    const stopped = new Map<string, { at: number; failed: boolean }>();
    const earlier = spec.earlierAttemptJobs ?? 0;
    const slotsOf = new Map<string, { free: number[]; next: number }>();
    plan.jobs.forEach((job, k) => {
      const env = job.request.containerOverrides?.environment ?? [];
      const base = { jobName: job.request.jobName, jobQueue: OUTPUTS.processQueueArn, jobDefinition: `${ARN}:job-definition/${job.request.jobDefinition}:1`, environment: env, arraySize: job.request.arrayProperties?.size };
      if (k < earlier) {
        const failure = { reason: `pipeline-orchestrator: run ${runId} attempt 1: submission failed after ${earlier} of ${plan.jobs.length} jobs`, attempts: 0 };
        this.addJob({ ...base, jobId: uuid(`${runId} ${job.id} attempt 1`), dependsOn: [], createdAt: at + 22 * S + k * 150, lives: [lifeOf(Infinity, undefined, undefined, at + 26 * S, failure)], failures: new Map([[0, failure]]) });
      }
      const createdAt = submitted + k * 150;
      const deps = job.dependsOn.map((d) => stopped.get(d.id)!);
      const ready = Math.max(createdAt + 2 * S, ...deps.map((d) => d.at)) + 3 * S;
      const timing = spec.timing?.[job.step] ?? {};
      const lives: Life[] = [];
      const failures = new Map<number, DemoFailure>();
      if (deps.some((d) => d.failed)) {
        const failure = { reason: "Dependent Job failed", attempts: 0 };
        for (let i = 0; i < job.taskCount; i++) {
          lives.push(lifeOf(Infinity, undefined, undefined, ready - S, failure));
          failures.set(i, failure);
        }
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
          lives.push(lifeOf(ready + S, starting, starting + 15 * S, starting + 15 * S + ms, failure));
          if (failure) failures.set(i, failure);
          slots.free[slot] = starting + 15 * S + ms;
        }
      }
      let end = -Infinity;
      for (const life of lives) end = Math.max(end, life.stopped!);
      stopped.set(job.id, { at: end, failed: failures.size > 0 });
      this.addJob({ ...base, jobId: uuid(`${runId} ${job.id}`), dependsOn: job.dependsOn.map((d) => uuid(`${runId} ${d.id}`)), createdAt, lives, failures });
    });
    if (spec.wait && owner) {
      // The owner waits for the DAG: it stops 20 s after its last job, FAILED (exit 1) if a job failed.
      const ends = [...stopped.values()];
      const failed = ends.some((e) => e.failed);
      const failure = { reason: "Essential container in task exited", exitCode: 1, attempts: 1 };
      this.model.setLife(owner!, { ...owner!.life, stopped: Math.max(...ends.map((e) => e.at)) + 20 * S, ...(failed ? { failed: true, reason: failure.reason } : {}) });
      if (failed) this.failures.set(owner!, failure);
    }
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
