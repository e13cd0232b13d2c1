/**
 * The Batch the orchestrator's tests talk to. {@link mockBatch}: the mocked client each test file sets
 * up, with the calls it received, the file's clock (its `sleep` moves it) and {@link FakeBatch}es on it; the
 * errors Batch answers with. {@link FakeBatch}: the Batch model (tests/support/batchModel.ts) behind
 * aws-sdk-client-mock with the orchestrator's fault plans, for tests where what one call does must show in
 * the next: SubmitJob creates a job that ListJobs and DescribeJobs then return; a fault can make SubmitJob
 * create the job and still fail (a 500 or a timeout after Batch created it: SubmitJob has no client token);
 * ListJobs can lag behind (it is eventually consistent); TerminateJob stops a job at once unless the test
 * says it runs on (SIGTERM, then SIGKILL at most 30 s later) or never stops; array parents have children
 * ListJobs finds by `arrayJobId` + `jobStatus`.
 */
import {
  BatchClient,
  ListJobsCommand,
  SubmitJobCommand,
  TerminateJobCommand,
  type JobStatus,
  type SubmitJobCommandInput,
} from "@aws-sdk/client-batch";
import { mockClient, type AwsStub } from "aws-sdk-client-mock";
import { beforeEach, vi } from "vitest";
import { BATCH_COMMANDS } from "../../batch/clients";
import { batchClientError } from "../support/batchSemantics";
import { BatchModel, mockBatchModel, type ModelJob } from "../support/batchModel";
import { FakeClock } from "../support/clock";
import { RUN_ID } from "./fixtures";

/** A planned job's name: the run id, then its plan-local id. */
export const NAME = (id: string) => `${RUN_ID}-${id}`;

/** Batch ids derived from the job name make assertions about dependency mapping readable. */
export const idFor = (jobName: string) => `id-${jobName.slice(RUN_ID.length + 1)}`;

/** Where the orchestrator tests' clock starts (ms): jobs an earlier attempt made, at 0 to 2, are older. */
const START = 1_000;

/**
 * The Batch client the orchestrator's tests drive, behind aws-sdk-client-mock. Before each test the mock
 * is reset to list no jobs, submit every job (its id from {@link idFor}) and terminate anything, and the
 * clock is back at its start; a test overrides that with `batchMock.on(…)` or puts a {@link FakeBatch}
 * behind it (`fakeBatch()`). Call once per test file.
 */
export function mockBatch() {
  const batchMock = mockClient(BatchClient);
  const clock = new FakeClock(START);
  const sleep = vi.fn((ms: number) => clock.sleep(ms));
  beforeEach(() => {
    batchMock.reset();
    clock.reset(START);
    sleep.mockClear();
    batchMock.on(ListJobsCommand).resolves({ jobSummaryList: [] });
    batchMock.on(SubmitJobCommand).callsFake((input: SubmitJobCommandInput) => ({ jobId: idFor(input.jobName!), jobName: input.jobName }));
    batchMock.on(TerminateJobCommand).resolves({});
  });
  return {
    batchMock,
    batch: new BatchClient({ region: "us-east-1" }),
    /** The SDK's command classes the calls send (the mock matches them). */
    commands: BATCH_COMMANDS,
    /** The file's clock: `sleep` moves it, and records each wait in `clock.slept` (reset before each test). */
    clock,
    /** The clock's sleep, as a mock (cleared before each test). */
    sleep,
    /** A {@link FakeBatch} behind the mock, on the file's clock. */
    fakeBatch: () => new FakeBatch(batchMock, clock),
    /** The SubmitJob requests sent, in order. */
    submitted: () => batchMock.commandCalls(SubmitJobCommand).map((c) => c.args[0].input as SubmitJobCommandInput),
    terminated: () => batchMock.commandCalls(TerminateJobCommand).map((c) => c.args[0].input),
    listInputs: () => batchMock.commandCalls(ListJobsCommand).map((c) => c.args[0].input),
  };
}

/** A job Batch already knows (an earlier attempt's, a start job…). */
export interface KnownJob {
  jobId: string;
  jobName: string;
  /** @default process-queue */
  jobQueue?: string;
  /** @default RUNNING */
  status?: JobStatus;
  /** @default 0 */
  createdAt?: number;
  /** Set for array parents. */
  arrayProperties?: { size: number };
  /** Once terminated while STARTING or RUNNING, it runs on this long (SIGTERM, then SIGKILL at most 30 s later). @default 0 */
  stopsAfterMs?: number;
  /** Once terminated, it never stops (its host is gone, and Batch has not noticed). */
  stuck?: boolean;
}

/** How one SubmitJob call goes wrong. */
export interface SubmitFault {
  /** Batch created the job before the call failed (the ambiguous case). */
  creates: boolean;
  error: () => Error;
  /** ListJobs calls the created job stays unlisted for. @default 0 */
  listLag?: number;
}

export { serverError, timeout, tooManyRequests } from "../support/batchSemantics";
export const clientError = (message = "Job definition is INACTIVE") => batchClientError(message);
export const accessDenied = () => batchClientError("not authorized to perform: batch:SubmitJob", "AccessDeniedException", 403);

/** The orchestrator's Batch: the model, with the fault plans and views its tests use. */
export class FakeBatch {
  readonly model: BatchModel;

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any client's stub
  constructor(mock: AwsStub<any, any, any>, clock = new FakeClock(START)) {
    this.model = mockBatchModel(
      mock,
      new BatchModel({
        clock,
        region: "us-east-1",
        // The jobs these tests stop exit on SIGTERM, unless a test says otherwise (KnownJob.stopsAfterMs, stuck).
        killAfterMs: 0,
        jobIdOf: (input, n) => `job-${n}-${input.jobName!.split("-").slice(1).join("-")}`,
      }),
    );
  }

  /** Every job, in the order Batch got them. */
  get jobs(): ModelJob[] {
    return this.model.jobs;
  }

  /** The status of a job SubmitJob creates. */
  set initialStatus(status: JobStatus) {
    this.model.submitStatus = status;
  }

  /** Makes Batch know a job. */
  add(job: KnownJob): ModelJob {
    const added = this.model.add({
      jobId: job.jobId,
      jobName: job.jobName,
      jobQueue: job.jobQueue ?? "process-queue",
      status: job.status ?? "RUNNING",
      createdAt: job.createdAt ?? 0,
      ...(job.arrayProperties ? { arraySize: job.arrayProperties.size } : {}),
      ...(job.stopsAfterMs !== undefined ? { killAfterMs: job.stopsAfterMs } : {}),
    });
    if (job.stuck) this.model.stuck.add(job.jobId);
    return added;
  }

  /**
   * Gives array parent `parentId` its children, in index order (ids `parentId:index`). A child that
   * `outlivesCancel` is not cancelled with its parent: it was reaching STARTING just then (or, by the
   * CancelJob reference's older wording, a RUNNABLE child stays RUNNABLE until it reaches the queue's head).
   */
  addChildren(parentId: string, children: { status: JobStatus; outlivesCancel?: boolean }[]): void {
    this.model.addChildren(this.model.find(parentId)!, children.map(({ status }) => ({ status })));
    children.forEach((c, i) => c.outlivesCancel && this.model.slipThrough.add(`${parentId}:${i}`));
  }

  /** The next SubmitJob calls for `jobName` go wrong, one fault each. */
  fail(jobName: string, ...faults: SubmitFault[]): this {
    this.model.failNext("SubmitJob", ...faults.map((f) => ({ error: () => f.error(), creates: f.creates, ...(f.listLag !== undefined ? { listLagCalls: f.listLag } : {}), when: (input: SubmitJobCommandInput) => input.jobName === jobName })));
    return this;
  }

  /** Jobs named `jobName`, oldest first. */
  named(jobName: string): ModelJob[] {
    return this.model.named(jobName);
  }

  /** Jobs nobody terminated, by name: what will actually run. */
  live(jobName: string): ModelJob[] {
    return this.named(jobName).filter((j) => j.terminatedAt === undefined);
  }
}
