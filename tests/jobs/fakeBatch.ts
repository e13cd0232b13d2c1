/**
 * The Batch the orchestrator's tests talk to. {@link mockBatch}: the mocked client each test file sets
 * up, with the calls it received; the errors Batch answers with; and {@link FakeBatch}, a stateful Batch
 * behind aws-sdk-client-mock, for tests where what one call does must show in the next:
 * SubmitJob creates a job that ListJobs and DescribeJobs then return; a fault can make SubmitJob create
 * the job and still fail (a 500 or a timeout after Batch created it: SubmitJob has no client token);
 * ListJobs can lag behind (it is eventually consistent); TerminateJob can take a few DescribeJobs polls to
 * stop a job (SIGTERM, then SIGKILL 30 s later), and array parents have children ListJobs finds by
 * `arrayJobId` + `jobStatus`.
 */
import {
  BatchClient,
  DescribeJobsCommand,
  ListJobsCommand,
  SubmitJobCommand,
  TerminateJobCommand,
  type JobStatus,
  type ListJobsCommandInput,
  type SubmitJobCommandInput,
} from "@aws-sdk/client-batch";
import { mockClient, type AwsStub } from "aws-sdk-client-mock";
import { beforeEach, vi } from "vitest";
import { batchClientError, jobNameFilterMatches, jobNameFilterOf, newestFirst } from "../support/batchSemantics";
import { RUN_ID } from "./fixtures";

/** A planned job's name: the run id, then its plan-local id. */
export const NAME = (id: string) => `${RUN_ID}-${id}`;

/** Batch ids derived from the job name make assertions about dependency mapping readable. */
export const idFor = (jobName: string) => `id-${jobName.slice(RUN_ID.length + 1)}`;

/** Fake time: `sleep` advances `now` at once, and records what it slept. */
export function fakeClock() {
  const slept: number[] = [];
  return { slept, sleep: async (ms: number) => void slept.push(ms) };
}

/**
 * The Batch client the orchestrator's tests drive, behind aws-sdk-client-mock. Before each test the mock
 * is reset to list no jobs, submit every job (its id from {@link idFor}) and terminate anything; a test
 * overrides that with `batchMock.on(…)` or puts a {@link FakeBatch} behind it. Call once per test file.
 */
export function mockBatch() {
  const batchMock = mockClient(BatchClient);
  const sleep = vi.fn(async (_ms: number) => {});
  beforeEach(() => {
    batchMock.reset();
    sleep.mockClear();
    batchMock.on(ListJobsCommand).resolves({ jobSummaryList: [] });
    batchMock.on(SubmitJobCommand).callsFake((input: SubmitJobCommandInput) => ({ jobId: idFor(input.jobName!), jobName: input.jobName }));
    batchMock.on(TerminateJobCommand).resolves({});
  });
  return {
    batchMock,
    batch: new BatchClient({ region: "us-east-1" }),
    /** Resolves at once; cleared before each test. */
    sleep,
    /** The SubmitJob requests sent, in order. */
    submitted: () => batchMock.commandCalls(SubmitJobCommand).map((c) => c.args[0].input as SubmitJobCommandInput),
    terminated: () => batchMock.commandCalls(TerminateJobCommand).map((c) => c.args[0].input),
    listInputs: () => batchMock.commandCalls(ListJobsCommand).map((c) => c.args[0].input),
  };
}

export interface FakeJob {
  jobId: string;
  jobName: string;
  jobQueue: string;
  status: JobStatus;
  createdAt: number;
  statusReason?: string;
  /** Set for array parents. */
  arrayProperties?: { size: number };
  dependsOn?: SubmitJobCommandInput["dependsOn"];
  /** ListJobs does not return the job before the ListJobs call with this number (1-based) is made. */
  listedFrom: number;
  /** DescribeJobs polls that still show the job unfinished after TerminateJob. @default 0 */
  stopsAfterPolls?: number;
  terminated?: boolean;
}

/** How one SubmitJob call goes wrong. */
export interface SubmitFault {
  /** Batch created the job before the call failed (the ambiguous case). */
  creates: boolean;
  error: () => Error;
  /** ListJobs calls the created job stays unlisted for. @default FakeBatch.listLag */
  listLag?: number;
}

export { serverError, timeout, tooManyRequests } from "../support/batchSemantics";
export const clientError = (message = "Job definition is INACTIVE") => batchClientError(message);
export const accessDenied = () => batchClientError("not authorized to perform: batch:SubmitJob", "AccessDeniedException", 403);

const TERMINAL = new Set<JobStatus>(["SUCCEEDED", "FAILED"]);

export class FakeBatch {
  readonly jobs: FakeJob[] = [];
  /** Array children by parent id. */
  readonly children = new Map<string, { jobId: string; status: JobStatus }[]>();
  /** SubmitJob faults by job name, used once each in order. */
  readonly faults = new Map<string, SubmitFault[]>();
  /** ListJobs calls a newly created job stays unlisted for. */
  listLag = 0;
  /** Status of a job SubmitJob creates. */
  initialStatus: JobStatus = "SUBMITTED";
  private listCalls = 0;
  private created = 0;

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any client's stub
  constructor(mock: AwsStub<any, any, any>) {
    mock.on(SubmitJobCommand).callsFake((input: SubmitJobCommandInput) => this.submit(input));
    mock.on(ListJobsCommand).callsFake((input: ListJobsCommandInput) => this.list(input));
    mock.on(DescribeJobsCommand).callsFake(({ jobs }: { jobs: string[] }) => this.describe(jobs));
    mock.on(TerminateJobCommand).callsFake(({ jobId, reason }: { jobId: string; reason: string }) => this.terminate(jobId, reason));
  }

  /** Makes Batch know a job (an earlier attempt's, a start job…). */
  add(job: Partial<FakeJob> & Pick<FakeJob, "jobId" | "jobName">): FakeJob {
    const full: FakeJob = { jobQueue: "process-queue", status: "RUNNING", createdAt: 0, listedFrom: 0, ...job };
    this.jobs.push(full);
    return full;
  }

  /** The next SubmitJob calls for `jobName` go wrong, one fault each. */
  fail(jobName: string, ...faults: SubmitFault[]): this {
    this.faults.set(jobName, [...(this.faults.get(jobName) ?? []), ...faults]);
    return this;
  }

  /** Jobs named `jobName`, oldest first. */
  named(jobName: string): FakeJob[] {
    return this.jobs.filter((j) => j.jobName === jobName).sort((a, b) => a.createdAt - b.createdAt);
  }

  /** Jobs nobody terminated, by name: what will actually run. */
  live(jobName: string): FakeJob[] {
    return this.named(jobName).filter((j) => !j.terminated);
  }

  private submit(input: SubmitJobCommandInput) {
    const fault = this.faults.get(input.jobName!)?.shift();
    let job: FakeJob | undefined;
    if (!fault || fault.creates) {
      const n = ++this.created;
      job = this.add({
        jobId: `job-${n}-${input.jobName!.split("-").slice(1).join("-")}`,
        jobName: input.jobName!,
        jobQueue: input.jobQueue!,
        status: this.initialStatus,
        createdAt: 1_000 + n,
        dependsOn: input.dependsOn,
        ...(input.arrayProperties?.size ? { arrayProperties: { size: input.arrayProperties.size } } : {}),
        listedFrom: this.listCalls + 1 + (fault?.listLag ?? this.listLag),
      });
    }
    if (fault) throw fault.error();
    return { jobId: job!.jobId, jobName: job!.jobName };
  }

  private list(input: ListJobsCommandInput) {
    const call = ++this.listCalls;
    if (input.arrayJobId) {
      const status = input.jobStatus ?? "RUNNING";
      return { jobSummaryList: (this.children.get(input.arrayJobId) ?? []).filter((c) => c.status === status).map((c) => ({ jobId: c.jobId, jobName: "child", status: c.status })) };
    }
    const pattern = jobNameFilterOf(input) ?? "*";
    const jobSummaryList = newestFirst(this.jobs.filter((j) => j.jobQueue === input.jobQueue && jobNameFilterMatches(pattern, j.jobName) && call >= j.listedFrom))
      .map(({ jobId, jobName, status, createdAt, statusReason }) => ({ jobId, jobName, status, createdAt, statusReason }));
    return { jobSummaryList };
  }

  private describe(ids: string[]) {
    const found = this.jobs.filter((j) => ids.includes(j.jobId));
    for (const job of found) {
      // An array parent finishes only once every child has (CancelJob reference).
      const childrenDone = (this.children.get(job.jobId) ?? []).every((c) => TERMINAL.has(c.status));
      if (job.terminated && !TERMINAL.has(job.status) && childrenDone) {
        if ((job.stopsAfterPolls ?? 0) > 0) job.stopsAfterPolls!--;
        else job.status = "FAILED";
      }
    }
    // Shown as of this poll: a job whose last unfinished poll this is still shows unfinished.
    return {
      jobs: found.map((j) => ({
        jobId: j.jobId,
        jobName: j.jobName,
        jobQueue: j.jobQueue,
        jobDefinition: "d",
        startedAt: 0,
        status: j.status,
        statusReason: j.statusReason,
        ...(j.arrayProperties ? { arrayProperties: { size: j.arrayProperties.size } } : {}),
      })),
    };
  }

  private terminate(jobId: string, reason: string) {
    for (const [, children] of this.children) {
      const child = children.find((c) => c.jobId === jobId);
      if (child) child.status = "FAILED";
    }
    const job = this.jobs.find((j) => j.jobId === jobId);
    if (job && !TERMINAL.has(job.status)) {
      job.terminated = true;
      job.statusReason = reason;
      const children = this.children.get(jobId);
      // Terminating a parent cancels only the children that have not been scheduled: the worst case the
      // documentation allows (RUNNABLE ones, by older wording, stay RUNNABLE until they reach the queue's head).
      for (const child of children ?? []) if (child.status === "SUBMITTED" || child.status === "PENDING") child.status = "FAILED";
      if ((job.stopsAfterPolls ?? 0) === 0 && (children ?? []).every((c) => TERMINAL.has(c.status))) job.status = "FAILED";
    }
    return {};
  }
}
