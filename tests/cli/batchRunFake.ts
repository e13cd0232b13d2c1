/**
 * A run of the dev stack ({@link OUTPUTS}) in the Batch model (tests/support/batchModel.ts) behind
 * aws-sdk-client-mock, for the `cancel` and `logs` tests: a start job and the DAG's jobs (array parents split
 * at 10,000 tasks, plain jobs, barriers) with the environment the orchestrator gives them, array children
 * with their own log streams, each attempt that started with its own stream.
 *
 * Batch is the model's, worst case where it matters: ListJobs by name returns every status newest first,
 * children are listed by `arrayJobId` one status at a time, pages of 100, DescribeJobs refuses more than 100
 * ids, an array parent stays PENDING while children live, TerminateJob on a parent cancels only children not
 * yet STARTING or RUNNING (and misses one reaching STARTING just then: {@link BatchRunFake.slipThrough}), a
 * RUNNING job terminated gets SIGTERM and stays RUNNING until SIGKILL 30 s later (never if
 * {@link BatchRunFake.stuck}), and ListJobs shows a job {@link BatchRunFake.submit}ted `listLagMs` late. Time
 * is the model's clock: a fixed 12:00 unless a test gives it its context's (`fake.model.clock = ctx.clock`),
 * whose sleeps then move the run on. Jobs made by {@link BatchRunFake.addRun} were created from 11:00 on,
 * 10 ms apart, and those that ran started 5 s and stopped 65 s after they were created.
 */
import type { JobStatus, ListJobsCommandInput } from "@aws-sdk/client-batch";
import type { AwsStub } from "aws-sdk-client-mock";
import { inputEnvironment, runJobNamePrefix, startJobNamePrefix, TASK_ENV } from "../../contract";
import { type Attempt, BatchModel, type Life, lifeAt, mockBatchModel, type ModelJob } from "../support/batchModel";
import { batchClientError } from "../support/batchSemantics";
import { FakeClock } from "../support/clock";
import { OUTPUTS } from "./support";

const ARN = OUTPUTS.startQueueArn.split(":job-queue/")[0]!;
const NOON = Date.parse("2026-12-01T12:00:00Z");
const STARTED = new Set<JobStatus>(["RUNNING", "SUCCEEDED", "FAILED"]);

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

/** A job's definition name: `start`, or a key of `OUTPUTS.jobDefinitionNames`. */
const definitionName = (definition: string) => (definition === "start" ? OUTPUTS.startJobDefinitionName : OUTPUTS.jobDefinitionNames[definition]!);
/** The log stream of attempt `a` of a job or child of `definition`. */
const streamName = (definition: string, jobId: string, a: number) => `${definitionName(definition)}/default/${jobId.replace(/\W/g, "")}a${a}`;

export class BatchRunFake {
  readonly model: BatchModel;
  /** Job ids whose TerminateJob Batch refuses (AccessDeniedException). */
  readonly denyTerminate = new Set<string>();
  private readonly definitionOf = new Map<string, string>();
  private created = 0;

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any client's stub
  constructor(mock: AwsStub<any, any, any>, readonly epoch = Date.parse("2026-12-01T11:00:00Z")) {
    this.model = mockBatchModel(mock, new BatchModel({ clock: new FakeClock(NOON) }));
    this.model.failNext("TerminateJob", {
      times: Infinity,
      when: (input: { jobId: string }) => this.denyTerminate.has(input.jobId),
      error: (input: { jobId: string }) =>
        batchClientError(`User: arn:aws:iam::123456789012:user/operator is not authorized to perform: batch:TerminateJob on resource: ${ARN}:job/${input.jobId}`, "AccessDeniedException", 403),
    });
  }

  /** Every job of the account (array children are their parents'), in the order they were made. */
  get jobs(): ModelJob[] {
    return this.model.jobs;
  }

  /** Children that TerminateJob on their parent does not cancel: they were reaching STARTING just then. */
  get slipThrough(): Set<string> {
    return this.model.slipThrough;
  }

  /** Jobs that never stop once terminated (their host is gone, and Batch has not noticed). */
  get stuck(): Set<string> {
    return this.model.stuck;
  }

  /** How long after its creation a {@link submit}ted job is listed. */
  set listLagMs(ms: number) {
    this.model.listLagMs = ms;
  }

  /** Called after every ListJobs answer (a start job submitting just after a listing); what it throws, ListJobs throws. */
  set afterList(hook: (input: ListJobsCommandInput) => void) {
    this.model.afterCall = (command, input) => command === "ListJobs" && hook(input);
  }

  /** The job or child with this id. */
  find(jobId: string): ModelJob | undefined {
    return this.model.find(jobId);
  }

  /** The log stream of a job's (or child's) attempt `attempt`. */
  streamOf(jobId: string, attempt = 0): string {
    return this.find(jobId)!.attempts![attempt]!.logStreamName!;
  }

  /** A life and attempts for a job made in `status`: started 5 s and stopped 65 s after `createdAt`. */
  private made(status: JobStatus, createdAt: number, definition: string, jobId: string, attempts: number): { life: Life; attempts?: Attempt[] } {
    const life = lifeAt(status, createdAt);
    if (!STARTED.has(status)) return { life };
    life.running = createdAt + 5_000;
    if (life.stopped !== undefined) life.stopped = createdAt + 65_000;
    const runs = Array.from({ length: attempts }, (_, a): Attempt => ({
      startedAt: createdAt + 5_000,
      logStreamName: streamName(definition, jobId, a),
      ...(a < attempts - 1 || status !== "RUNNING" ? { stoppedAt: createdAt + 65_000 } : {}),
    }));
    return { life, attempts: runs };
  }

  /** A plain job, or an array parent with `children`; `n`: its place in creation order (10 ms apart from the epoch). */
  private job(spec: { jobId: string; jobName: string; jobQueue: string; status: JobStatus; definition: string; environment: Record<string, string>; logGroup?: string; attempts?: number }): ModelJob {
    const createdAt = this.epoch + ++this.created * 10;
    const { life, attempts } = this.made(spec.status, createdAt, spec.definition, spec.jobId, spec.attempts ?? 1);
    this.definitionOf.set(spec.jobId, spec.definition);
    return this.model.add({
      jobId: spec.jobId,
      jobName: spec.jobName,
      jobQueue: spec.jobQueue,
      createdAt,
      life,
      ...(attempts ? { attempts } : {}),
      jobDefinition: `${ARN}:job-definition/${definitionName(spec.definition)}:3`,
      container: {
        environment: Object.entries(spec.environment).map(([name, value]) => ({ name, value })),
        ...(spec.logGroup ? { logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": spec.logGroup } } } : {}),
      },
    });
  }

  /** Puts a run in the account: its start job, then each step's jobs (and barriers) in dependency order. */
  addRun(spec: FakeRunSpec): this {
    const input = { bucket: OUTPUTS.inputBucketName, key: spec.key ?? "incoming/data.csv", versionId: "v1", sizeBytes: 1_000_000 };
    const base = Object.fromEntries(inputEnvironment(input, spec.runId).map((e) => [e.name, e.value]));
    const group = (definition: string) => (spec.logGroupOption ? { logGroup: `/custom/${definition}` } : {});
    const short = spec.runId.slice(0, 6);
    this.job({ jobId: `start-${short}`, jobName: `${startJobNamePrefix(spec.runId)}-data-csv`, jobQueue: OUTPUTS.startQueueArn, status: spec.start, definition: "start", environment: base, ...group("start") });
    for (const step of spec.steps) {
      const chunk = step.chunk ?? 10_000;
      for (let offset = 0, c = 0; offset < step.width; offset += chunk, c++) {
        const size = Math.min(chunk, step.width - offset);
        const environment = { ...base, [TASK_ENV.step]: step.name, [TASK_ENV.taskCount]: String(step.width), [TASK_ENV.arrayOffset]: String(offset) };
        const jobId = `${step.name}-${short}-${c}`;
        const jobName = `${runJobNamePrefix(spec.runId)}${step.name}${step.width > chunk ? `-${c}` : ""}`;
        const common = { jobId, jobName, jobQueue: OUTPUTS.processQueueArn, definition: "process", environment, ...group("process") };
        if (size === 1) {
          this.job({ ...common, status: step.status(offset), attempts: step.attempts?.(offset) ?? 1 });
          continue;
        }
        // The children first (their creation times come before their parent's, as the fake has always made them).
        const kids = Array.from({ length: size }, (_, i) => {
          const createdAt = this.epoch + ++this.created * 10;
          return { createdAt, ...this.made(step.status(offset + i), createdAt, "process", `${jobId}:${i}`, step.attempts?.(offset + i) ?? 1) };
        });
        const parent = this.job({ ...common, status: "PENDING" });
        parent.arraySize = size;
        this.model.addChildren(parent, kids);
      }
      if (step.barrier) {
        this.job({ jobId: `barrier-${step.name}-${short}`, jobName: `${runJobNamePrefix(spec.runId)}${step.name}-barrier`, jobQueue: OUTPUTS.processQueueArn, status: step.barrier, definition: "barrier", environment: { ...base, [TASK_ENV.step]: step.name }, ...group("barrier") });
      }
    }
    return this;
  }

  /** A plain job of `step` that a start job of `runId` submits now (listed `listLagMs` from now). */
  submit(runId: string, step: string, status: JobStatus = "PENDING"): ModelJob {
    const start = this.model.jobs.find((j) => j.jobName.startsWith(startJobNamePrefix(runId)))!;
    const base = Object.fromEntries((start.container?.environment ?? []).map((e) => [e.name!, e.value!]));
    const environment = { ...base, [TASK_ENV.step]: step, [TASK_ENV.taskCount]: "1", [TASK_ENV.arrayOffset]: "0" };
    const now = this.model.clock.now();
    const jobId = `${step}-${runId.slice(0, 6)}-late`;
    this.definitionOf.set(jobId, "process");
    return this.model.add({
      jobId,
      jobName: `${runJobNamePrefix(runId)}${step}`,
      jobQueue: OUTPUTS.processQueueArn,
      createdAt: now,
      status,
      listedFrom: now + this.model.listLagMs,
      jobDefinition: `${ARN}:job-definition/${definitionName("process")}:3`,
      container: { environment: Object.entries(environment).map(([name, value]) => ({ name, value })) },
    });
  }

  /** An earlier attempt's namesake of `job`: another id, made at `createdAt`, in `status` since. */
  namesake(job: ModelJob, jobId: string, createdAt: number, status: JobStatus): ModelJob {
    return this.model.add({ jobId, jobName: job.jobName, jobQueue: job.jobQueue, createdAt, status, jobDefinition: job.jobDefinition!, container: job.container! });
  }

  /**
   * Moves a job or array child to `status` now, as Batch would over time: reaching RUNNING starts an attempt
   * (a new log stream), and an array parent ends once its children have.
   */
  setStatus(jobId: string, status: JobStatus): ModelJob {
    const job = this.find(jobId)!;
    const definition = this.definitionOf.get(job.parent?.jobId ?? jobId) ?? "process";
    this.model.move(job, status, { stream: (j, a) => streamName(definition, j.jobId, a) });
    return job;
  }
}
