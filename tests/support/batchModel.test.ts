/**
 * The Batch model (tests/support/batchModel.ts) through a real SDK client behind aws-sdk-client-mock: ListJobs'
 * filter semantics as the ListJobs API reference documents them
 * (https://docs.aws.amazon.com/batch/latest/APIReference/API_ListJobs.html), and the rest of what the tests
 * rely on it for: pages, listing lag, retention, SubmitJob's faults and refusals, TerminateJob and CancelJob,
 * the call-rate throttle, the HTTP adapter, jobs built lazily.
 */
import { BatchClient, CancelJobCommand, DescribeJobsCommand, type JobStatus, ListJobsCommand, type ListJobsCommandInput, SubmitJobCommand, TerminateJobCommand } from "@aws-sdk/client-batch";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { isAmbiguousSubmitFailure, isThrottlingError } from "../../batch/calls";
import { answerBatchHttp, BatchModel, mockBatchModel } from "./batchModel";
import { serverError, timeout } from "./batchSemantics";
import { FakeClock } from "./clock";

const mock = mockClient(BatchClient);
afterEach(() => mock.reset());
const batch = new BatchClient({ region: "eu-west-1", credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "secret" } });
const NOON = Date.parse("2026-12-01T12:00:00Z");
const Q = "arn:aws:batch:eu-west-1:123456789012:job-queue/low";
const DEF = (rev: number, name = "process") => `arn:aws:batch:eu-west-1:123456789012:job-definition/${name}:${rev}`;

function model(options: ConstructorParameters<typeof BatchModel>[0] = {}) {
  const clock = new FakeClock(NOON);
  return { clock, model: mockBatchModel(mock, new BatchModel({ clock, ...options })) };
}
const list = async (input: ListJobsCommandInput) => (await batch.send(new ListJobsCommand(input))).jobSummaryList ?? [];
const ids = async (input: ListJobsCommandInput) => (await list(input)).map((j) => j.jobId);

describe("ListJobs' filters, as the ListJobs API reference documents them", () => {
  it("one filter at a time; with it jobStatus is ignored and every status listed, newest first; without it only jobStatus (RUNNING if none); it does not apply to array children", async () => {
    const { model: m } = model();
    const add = (jobId: string, jobName: string, status: JobStatus, minutesAgo: number, jobDefinition = DEF(1)) =>
      m.add({ jobId, jobName, jobQueue: Q, status, createdAt: NOON - minutesAgo * 60_000, jobDefinition });
    add("a", "Run1-prepare", "SUCCEEDED", 50);
    add("b", "run1-process", "RUNNING", 40, DEF(2));
    add("c", "run10-merge", "RUNNABLE", 30, DEF(1, "processX"));
    add("d", "run2-prepare", "RUNNING", 20, DEF(3, "barrier"));
    const parent = add("p", "run1-array", "PENDING", 10);
    m.addChildren(parent, [{ status: "RUNNING" }, { status: "SUCCEEDED" }, { status: "RUNNING" }]);
    const filter = (name: string, value: string) => ({ jobQueue: Q, filters: [{ name, values: [value] }] });

    // No filter: jobStatus, RUNNING without one.
    expect(await ids({ jobQueue: Q })).toEqual(["d", "b"]);
    expect(await ids({ jobQueue: Q, jobStatus: "RUNNABLE" })).toEqual(["c"]);
    // JOB_NAME: case-insensitive; a trailing '*' matches a prefix ("test1* matches both test1 and Test10"); every status; newest first.
    expect(await ids(filter("JOB_NAME", "RUN1-PREPARE"))).toEqual(["a"]);
    expect(await ids(filter("JOB_NAME", "run1*"))).toEqual(["p", "c", "b", "a"]);
    expect(await ids({ ...filter("JOB_NAME", "run1-*"), jobStatus: "RUNNING" })).toEqual(["p", "b", "a"]);
    // JOB_DEFINITION: case-sensitive; a name matches any revision, with '*' a prefix; an ARN only its revision.
    expect(await ids(filter("JOB_DEFINITION", "process"))).toEqual(["p", "b", "a"]);
    expect(await ids(filter("JOB_DEFINITION", "process*"))).toEqual(["p", "c", "b", "a"]);
    expect(await ids(filter("JOB_DEFINITION", "Process"))).toEqual([]);
    expect(await ids(filter("JOB_DEFINITION", DEF(2)))).toEqual(["b"]);
    // AFTER_CREATED_AT / BEFORE_CREATED_AT: ms since the epoch, against createdAt.
    expect(await ids(filter("AFTER_CREATED_AT", String(NOON - 35 * 60_000)))).toEqual(["p", "d", "c"]);
    expect(await ids(filter("BEFORE_CREATED_AT", String(NOON - 35 * 60_000)))).toEqual(["b", "a"]);
    // "Only one filter can be used at a time."
    await expect(batch.send(new ListJobsCommand({ jobQueue: Q, filters: [{ name: "JOB_NAME", values: ["run1*"] }, { name: "JOB_DEFINITION", values: ["process"] }] }))).rejects.toMatchObject({ name: "ClientException" });
    // Exactly one of a queue, an array job or a multi-node job.
    await expect(batch.send(new ListJobsCommand({ jobQueue: Q, arrayJobId: "p" }))).rejects.toMatchObject({ name: "ClientException" });
    // Children: by arrayJobId and jobStatus (RUNNING without one); "The filter doesn't apply to child jobs".
    expect(await ids({ arrayJobId: "p" })).toEqual(["p:0", "p:2"]);
    expect(await ids({ arrayJobId: "p", jobStatus: "SUCCEEDED" })).toEqual(["p:1"]);
    expect(await ids({ arrayJobId: "p", filters: [{ name: "JOB_NAME", values: ["nothing"] }] })).toEqual(["p:0", "p:2"]);
  });
});

describe("ListJobs by name, of jobs SubmitJob created", () => {
  it("case-insensitive, prefix with a trailing '*', newest first", async () => {
    const { clock } = model();
    for (const jobName of ["Run1-a", "run1-b", "run2-a"]) {
      await batch.send(new SubmitJobCommand({ jobName, jobQueue: "q", jobDefinition: "d" }));
      clock.advance(1);
    }
    const names = async (value: string) => (await list({ jobQueue: "q", filters: [{ name: "JOB_NAME", values: [value] }] })).map((j) => j.jobName);
    expect(await names("run1*")).toEqual(["run1-b", "Run1-a"]);
    expect(await names("RUN1-B")).toEqual(["run1-b"]);
  });
});

describe("the model's listing: pages, lag, retention", () => {
  it("pages of at most 100 with a nextToken, the last without", async () => {
    const { model: m } = model();
    for (let i = 0; i < 250; i++) m.add({ jobId: `j${i}`, jobName: `run-${i}`, jobQueue: Q, status: "RUNNING", createdAt: NOON - 1_000 + i });
    const first = await batch.send(new ListJobsCommand({ jobQueue: Q, filters: [{ name: "JOB_NAME", values: ["run-*"] }] }));
    const second = await batch.send(new ListJobsCommand({ jobQueue: Q, filters: [{ name: "JOB_NAME", values: ["run-*"] }], nextToken: first.nextToken }));
    const third = await batch.send(new ListJobsCommand({ jobQueue: Q, filters: [{ name: "JOB_NAME", values: ["run-*"] }], nextToken: second.nextToken, maxResults: 500 }));
    expect([first, second, third].map((p) => [p.jobSummaryList!.length, p.nextToken !== undefined])).toEqual([[100, true], [100, true], [50, false]]);
    expect(first.jobSummaryList![0]!.jobId).toBe("j249");
  });

  it("ListJobs shows a new job only listLagMs after it was created (DescribeJobs at once), or from the ListJobs call listLagCalls later", async () => {
    const { clock, model: m } = model({ listLagMs: 3_000 });
    const { jobId } = await batch.send(new SubmitJobCommand({ jobName: "late", jobQueue: Q, jobDefinition: "process" }));
    expect(await ids({ jobQueue: Q, filters: [{ name: "JOB_NAME", values: ["late"] }] })).toEqual([]);
    expect((await batch.send(new DescribeJobsCommand({ jobs: [jobId!] }))).jobs).toHaveLength(1);
    clock.advance(3_000);
    expect(await ids({ jobQueue: Q, filters: [{ name: "JOB_NAME", values: ["late"] }] })).toEqual([jobId]);
    m.listLagMs = 0;
    m.listLagCalls = 2;
    const later = await batch.send(new SubmitJobCommand({ jobName: "later", jobQueue: Q, jobDefinition: "process" }));
    const byName = () => ids({ jobQueue: Q, filters: [{ name: "JOB_NAME", values: ["later"] }] });
    expect([await byName(), await byName(), await byName()]).toEqual([[], [], [later.jobId]]);
  });

  it("a job does not exist before its createdAt, and a finished one drops out retentionMs after it stopped", async () => {
    const { clock, model: m } = model({ retentionMs: 60_000 });
    m.add({ jobId: "future", jobName: "f", jobQueue: Q, status: "RUNNING", createdAt: NOON + 1_000 });
    m.add({ jobId: "done", jobName: "d", jobQueue: Q, life: { pending: NOON - 1, running: NOON - 1, stopped: NOON } });
    const described = async () => (await batch.send(new DescribeJobsCommand({ jobs: ["future", "done"] }))).jobs!.map((j) => j.jobId);
    expect(await described()).toEqual(["done"]);
    clock.advance(60_000);
    expect(await described()).toEqual(["future", "done"]);
    clock.advance(1);
    expect(await described()).toEqual(["future"]);
  });

  it("DescribeJobs refuses more than 100 ids", async () => {
    model();
    await expect(batch.send(new DescribeJobsCommand({ jobs: Array.from({ length: 101 }, (_, i) => `j${i}`) }))).rejects.toMatchObject({ name: "ClientException" });
  });
});

describe("SubmitJob: faults and refusals", () => {
  it("a 500 or a timeout after creating the job leaves the job behind; a 429 or a 400 creates nothing", async () => {
    const { model: m } = model();
    m.failNext("SubmitJob", { error: serverError, creates: true }, { error: timeout, creates: true }, { error: () => Object.assign(new Error("x"), { name: "x" }), when: (i) => i.jobName === "other" });
    const submit = (jobName: string) => batch.send(new SubmitJobCommand({ jobName, jobQueue: Q, jobDefinition: "process" })).catch((e: unknown) => e);
    const errors = [await submit("a"), await submit("b")];
    expect(errors.every(isAmbiguousSubmitFailure)).toBe(true);
    expect(m.jobs.map((j) => j.jobName)).toEqual(["a", "b"]);
    m.throttle = { perSecond: 1, operations: ["SubmitJob"] };
    expect(await submit("c")).toMatchObject({ jobId: expect.any(String) });
    expect(isThrottlingError(await submit("d"))).toBe(true);
    expect(m.jobs.map((j) => j.jobName)).toEqual(["a", "b", "c"]);
    expect(m.stats.SubmitJob).toMatchObject({ calls: 4, throttled: 1 });
  });

  it("refuses what Batch refuses: a bad name, an array of 1 or of more than 10,000, more than 20 dependencies", async () => {
    model();
    const refused = (input: object) => batch.send(new SubmitJobCommand({ jobName: "ok", jobQueue: Q, jobDefinition: "process", ...input })).catch((e: { name: string }) => e.name);
    expect(await refused({ jobName: "-starts-with-a-dash" })).toBe("ClientException");
    expect(await refused({ arrayProperties: { size: 1 } })).toBe("ClientException");
    expect(await refused({ arrayProperties: { size: 10_001 } })).toBe("ClientException");
    expect(await refused({ dependsOn: Array.from({ length: 21 }, (_, i) => ({ jobId: `j${i}` })) })).toBe("ClientException");
    expect(await refused({ arrayProperties: { size: 10_000 } })).toMatchObject({ jobId: expect.any(String) });
  });
});

describe("TerminateJob and CancelJob", () => {
  const status = async (id: string) => (await batch.send(new DescribeJobsCommand({ jobs: [id] }))).jobs![0]!;

  it("a RUNNING job terminated gets SIGTERM and stays RUNNING until SIGKILL 30 s later (never if stuck); one not yet STARTING is cancelled at once", async () => {
    const { clock, model: m } = model();
    for (const [jobId, s] of [["run", "RUNNING"], ["wait", "RUNNABLE"], ["stuck", "RUNNING"]] as const) m.add({ jobId, jobName: jobId, jobQueue: Q, status: s, createdAt: NOON - 60_000 });
    m.stuck.add("stuck");
    for (const jobId of ["run", "wait", "stuck"]) await batch.send(new TerminateJobCommand({ jobId, reason: "stop" }));
    expect([(await status("run")).status, (await status("wait")).status, (await status("run")).statusReason]).toEqual(["RUNNING", "FAILED", "stop"]);
    clock.advance(30_000);
    expect([(await status("run")).status, (await status("run")).stoppedAt, (await status("stuck")).status]).toEqual(["FAILED", NOON + 30_000, "RUNNING"]);
  });

  it("cancelling an array parent cancels the children not yet STARTING or RUNNING; the parent ends when they all have; CancelJob leaves a RUNNING job be", async () => {
    const { clock, model: m } = model();
    const parent = m.add({ jobId: "p", jobName: "p", jobQueue: Q, status: "PENDING", createdAt: NOON - 60_000 });
    m.addChildren(parent, (["RUNNING", "STARTING", "RUNNABLE", "PENDING"] as const).map((s) => ({ status: s })));
    await batch.send(new TerminateJobCommand({ jobId: "p", reason: "stop" }));
    const summary = async () => (await status("p")).arrayProperties!.statusSummary;
    expect(await summary()).toMatchObject({ RUNNING: 1, STARTING: 1, FAILED: 2 });
    expect((await status("p")).status).toBe("PENDING");
    await batch.send(new CancelJobCommand({ jobId: "p:0", reason: "stop" }));
    expect((await status("p:0")).status).toBe("RUNNING");
    for (const jobId of ["p:0", "p:1"]) await batch.send(new TerminateJobCommand({ jobId, reason: "stop" }));
    clock.advance(30_000);
    expect([(await status("p")).status, await summary()]).toEqual(["FAILED", expect.objectContaining({ FAILED: 4 })]);
  });
});

describe("the model's other parts", () => {
  it("an account-wide call rate shared by the operations named: a token bucket of perSecond, full at first", async () => {
    const { clock } = model({ throttle: { perSecond: 2, operations: ["ListJobs", "DescribeJobs"] } });
    const outcomes = async () => Promise.all([list({ jobQueue: Q }), batch.send(new DescribeJobsCommand({ jobs: [] })), list({ jobQueue: Q })].map((p) => p.then(() => "ok", (e: unknown) => (isThrottlingError(e) ? 429 : e))));
    expect(await outcomes()).toEqual(["ok", "ok", 429]);
    clock.advance(500);
    expect(await outcomes()).toEqual(["ok", 429, 429]);
  });

  it("counts an array parent's children in the state each child's life gives at that time (its index agrees with the children, moved ones too)", () => {
    const m = new BatchModel({ clock: new FakeClock(0) });
    let seed = 7;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const at = () => Math.floor(random() * 100);
    const lives = Array.from({ length: 500 }, () => {
      const times = [at(), at(), at(), at(), at()].sort((a, b) => a - b);
      const keep = () => random() < 0.8;
      return { ...(keep() ? { pending: times[0] } : {}), ...(keep() ? { runnable: times[1] } : {}), ...(keep() ? { starting: times[2] } : {}), ...(keep() ? { running: times[3] } : {}), ...(keep() ? { stopped: times[4], failed: random() < 0.3 } : {}) };
    });
    const parent = m.add({ jobId: "p", jobName: "p", jobQueue: Q, status: "PENDING", createdAt: 0 });
    m.addChildren(parent, { lives, createdAt: () => 0 });
    const byHand = (t: number) => {
      const counts: Record<string, number> = { SUBMITTED: 0, PENDING: 0, RUNNABLE: 0, STARTING: 0, RUNNING: 0, SUCCEEDED: 0, FAILED: 0 };
      for (let i = 0; i < lives.length; i++) counts[m.statusOf(m.childOf(parent, i), t)]!++;
      return counts;
    };
    for (const t of [-1, 0, 13, 50, 99, 100]) expect(m.detailOf(parent, t).arrayProperties!.statusSummary).toEqual(byHand(t));
    m.move(m.childOf(parent, 3), "FAILED", { at: 10 });
    m.move(m.childOf(parent, 4), "RUNNING", { at: 10 });
    for (const t of [10, 60]) expect(m.detailOf(parent, t).arrayProperties!.statusSummary).toEqual(byHand(t));
  });

  it("builds lazy jobs only when a call needs them: a ListJobs whose name filter may match them, or anything else", async () => {
    const { model: m } = model();
    const built: string[] = [];
    for (const run of ["aaa", "bbb"]) {
      m.lazy([`start-${run}`, `${run}-`], () => {
        built.push(run);
        m.add({ jobId: run, jobName: `${run}-x`, jobQueue: Q, status: "RUNNING", createdAt: NOON });
      });
    }
    expect(await ids({ jobQueue: Q, filters: [{ name: "JOB_NAME", values: ["aaa-*"] }] })).toEqual(["aaa"]);
    expect(built).toEqual(["aaa"]);
    expect((await batch.send(new DescribeJobsCommand({ jobs: ["bbb"] }))).jobs!.map((j) => j.jobId)).toEqual(["bbb"]);
    expect(built).toEqual(["aaa", "bbb"]);
  });

  it("over HTTP: an answer as Batch's REST-JSON, an error with its status and x-amzn-errortype, a timeout as no answer", () => {
    const m = new BatchModel({ clock: new FakeClock(NOON) });
    const submit = () => answerBatchHttp(m, "POST", "/v1/submitjob", { jobName: "a", jobQueue: Q, jobDefinition: "process" });
    expect(submit()).toMatchObject({ operation: "SubmitJob", answer: { status: 200, body: { jobName: "a", jobId: expect.any(String) } } });
    m.failNext("SubmitJob", { error: serverError, creates: true }, { error: timeout });
    expect(submit()).toMatchObject({ answer: { status: 500, headers: { "x-amzn-errortype": "ServerException" } } });
    expect(submit()).toMatchObject({ answer: "drop" });
    expect(m.jobs).toHaveLength(2);
    expect(answerBatchHttp(m, "GET", "/v1/submitjob", {})).toBeUndefined();
  });
});
