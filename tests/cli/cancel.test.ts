/**
 * `batch-pipeline cancel`: what it terminates and in which order (start jobs first, so none can submit
 * more; then the DAG; then the array children TerminateJob on a parent does not stop), the reason Batch
 * records, asking first on a terminal, and its exit codes.
 */
import { BatchClient, ListJobsCommand, TerminateJobCommand } from "@aws-sdk/client-batch";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { BatchRunFake } from "./batchRunFake";
import { cli, cliContext, OUTPUTS } from "./support";

const batch = mockClient(BatchClient);
const RUN = "0123456789abcdef01234567";
const REASON = "batch-pipeline cancel by alice: wrong input";
let fake: BatchRunFake;

/** A run under way: its start job waiting for the DAG (`orchestrator.wait`), prepare done, 3 of 30 process tasks running, merge waiting. */
function runUnderWay(): BatchRunFake {
  return fake.addRun({
    runId: RUN,
    start: "RUNNING",
    steps: [
      { name: "prepare", width: 1, status: () => "SUCCEEDED" },
      { name: "process", width: 30, status: (t) => (t < 3 ? "RUNNING" : "RUNNABLE") },
      { name: "merge", width: 1, status: () => "PENDING" },
    ],
  });
}

const terminateInputs = () => batch.commandCalls(TerminateJobCommand).map((c) => c.args[0].input);
const env = { USER: "alice" };

beforeEach(() => {
  batch.reset();
  fake = new BatchRunFake(batch);
});

describe("cancel a run under way", () => {
  it("--yes terminates the start job first, then the DAG's live jobs, then the running array children, each with the reason", async () => {
    runUnderWay();
    const { code, stdout, stderr } = await cli(["--stack", "dev", "cancel", RUN, "--yes", "--reason", "wrong input"], cliContext({ env }));
    expect(code).toBe(0);
    // TerminateJob API reference: a job not yet STARTING is cancelled; "Array jobs" / CancelJob: a parent's
    // STARTING or RUNNING children are not, and must be terminated themselves.
    expect(terminateInputs()).toEqual([
      { jobId: "start-012345", reason: REASON },
      { jobId: "process-012345-0", reason: REASON },
      { jobId: "merge-012345-0", reason: REASON },
      { jobId: "process-012345-0:0", reason: REASON },
      { jobId: "process-012345-0:1", reason: REASON },
      { jobId: "process-012345-0:2", reason: REASON },
    ]);
    expect(stdout).toBe(["start    terminated 1 start job", "process  terminated 1 job and 3 running array children", "merge    terminated 1 job", ""].join("\n"));
    expect(stderr).toBe(
      `terminating 32 jobs (4 running, 28 waiting) of run ${RUN} (reason: ${REASON})\n` +
        `running containers get SIGTERM, then SIGKILL about 30 s later; \`batch-pipeline status ${RUN}\` shows them end\n`,
    );
    // Children listed per status, as ListJobs requires (without a status it lists only RUNNING ones).
    const childLists = batch.commandCalls(ListJobsCommand).map((c) => c.args[0].input).filter((i) => i.arrayJobId);
    expect(childLists).toEqual([
      { arrayJobId: "process-012345-0", jobStatus: "STARTING", nextToken: undefined },
      { arrayJobId: "process-012345-0", jobStatus: "RUNNING", nextToken: undefined },
    ]);
    fake.stopTerminated();
    expect(fake.find("process-012345-0")!.status).toBe("FAILED");
    expect(fake.find("process-012345-0:29")!.status).toBe("FAILED");
  });

  it("without --reason says so, and a missing USER is `unknown`", async () => {
    runUnderWay();
    await cli(["--stack", "dev", "cancel", RUN, "--yes"]);
    expect(new Set(terminateInputs().map((i) => i.reason))).toEqual(new Set(["batch-pipeline cancel by unknown: no reason given"]));
  });

  it("on a TTY asks first, with the counts, and terminates nothing unless the answer is yes (exit 1)", async () => {
    runUnderWay();
    const ctx = cliContext({ isTTY: true, env, answers: [false] });
    const { code, stdout, stderr } = await cli(["--stack", "dev", "cancel", RUN], ctx);
    expect(ctx.questions).toEqual([`Terminate 32 jobs (4 running, 28 waiting) of run ${RUN}?`]);
    expect(code).toBe(1);
    expect(terminateInputs()).toEqual([]);
    expect(stdout).toBe("");
    expect(stderr).toBe("nothing terminated\n");
  });

  it("on a TTY answered yes, terminates", async () => {
    runUnderWay();
    const ctx = cliContext({ isTTY: true, env, answers: [true] });
    const { code, stdout } = await cli(["--stack", "dev", "cancel", RUN], ctx);
    expect(code).toBe(0);
    expect(terminateInputs()).toHaveLength(6);
    expect(stdout).toBe(["start    terminated 1 start job", "process  terminated 1 job and 3 running array children", "merge    terminated 1 job", ""].join("\n"));
  });

  it("not on a TTY and without --yes, refuses (exit 2) and terminates nothing", async () => {
    runUnderWay();
    const { code, stdout, stderr } = await cli(["--stack", "dev", "cancel", RUN], cliContext({ env }));
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toBe(`error: cancel would terminate 32 jobs (4 running, 28 waiting) of run ${RUN}; stdin is not a terminal to ask, so pass --yes to go ahead\n`);
    expect(terminateInputs()).toEqual([]);
  });

  it("--json prints one document: every job terminated (its state before) and none failed", async () => {
    runUnderWay();
    const { code, stdout, stderr } = await cli(["--stack", "dev", "cancel", RUN, "--yes", "--json", "--reason", "wrong input"], cliContext({ env }));
    expect(code).toBe(0);
    expect(stderr).toBe("");
    const job = (step: string, jobId: string, jobName: string, kind: string, status: string) => ({ step, jobId, jobName, kind, status });
    expect(JSON.parse(stdout)).toEqual({
      runId: RUN,
      state: "RUNNING",
      reason: REASON,
      terminated: [
        job("start", "start-012345", `start-${RUN}-data-csv`, "start", "RUNNING"),
        job("process", "process-012345-0", `${RUN}-process`, "job", "PENDING"),
        job("merge", "merge-012345-0", `${RUN}-merge`, "job", "PENDING"),
        ...[0, 1, 2].map((i) => job("process", `process-012345-0:${i}`, `${RUN}-process[${i}]`, "child", "RUNNING")),
      ],
      failed: [],
    });
  });

  it("a TerminateJob Batch refuses is reported with the job and AWS's reason, the rest still terminated (exit 3)", async () => {
    runUnderWay();
    fake.denyTerminate.add("merge-012345-0");
    const { code, stdout, stderr } = await cli(["--stack", "dev", "cancel", RUN, "--yes"], cliContext({ env }));
    expect(code).toBe(3);
    expect(terminateInputs().map((i) => i.jobId)).toEqual(["start-012345", "process-012345-0", "merge-012345-0", "process-012345-0:0", "process-012345-0:1", "process-012345-0:2"]);
    expect(stdout).toContain("process  terminated 1 job and 3 running array children\nmerge    terminated nothing\n");
    expect(stderr).toContain(
      `error: could not terminate ${RUN}-merge (merge-012345-0, merge): AWS denied Batch TerminateJob merge-012345-0: User: arn:aws:iam::123456789012:user/operator is not authorized to perform: batch:TerminateJob on resource: arn:aws:batch:eu-west-1:123456789012:job/merge-012345-0 (give your identity this permission, or use another AWS_PROFILE)\n`,
    );
  });
});

describe("cancel: what counts as the run", () => {
  it("terminates live jobs of an earlier start attempt that newer jobs of the same name replaced", async () => {
    runUnderWay();
    const merge = fake.find("merge-012345-0")!;
    fake.jobs.push({ ...merge, jobId: "merge-earlier-attempt", createdAt: fake.epoch - 60_000, status: "RUNNABLE" });
    const { code } = await cli(["--stack", "dev", "cancel", RUN, "--yes"], cliContext({ env }));
    expect(code).toBe(0);
    expect(terminateInputs().map((i) => i.jobId)).toEqual(["start-012345", "merge-earlier-attempt", "process-012345-0", "merge-012345-0", "process-012345-0:0", "process-012345-0:1", "process-012345-0:2"]);
  });

  it("finds every running child past ListJobs' 100 a page", async () => {
    fake.addRun({ runId: RUN, start: "SUCCEEDED", steps: [{ name: "process", width: 250, status: () => "RUNNING" }] });
    const { code, stdout } = await cli(["--stack", "dev", "cancel", RUN, "--yes"], cliContext({ env }));
    expect(code).toBe(0);
    const running = batch.commandCalls(ListJobsCommand).map((c) => c.args[0].input).filter((i) => i.jobStatus === "RUNNING");
    expect(running.map((i) => i.nextToken)).toEqual([undefined, "100", "200"]);
    expect(terminateInputs().map((i) => i.jobId)).toEqual(["process-012345-0", ...Array.from({ length: 250 }, (_, i) => `process-012345-0:${i}`)]);
    expect(stdout).toBe("process  terminated 1 job and 250 running array children\n");
  });

  it.each([
    ["SUCCEEDED", () => "SUCCEEDED" as const],
    ["FAILED", (t: number) => (t === 4 ? ("FAILED" as const) : ("SUCCEEDED" as const))],
  ])("a run that already ended %s: says so, exit 0, no TerminateJob", async (state, status) => {
    fake.addRun({ runId: RUN, start: "SUCCEEDED", steps: [{ name: "process", width: 12, status }, { name: "merge", width: 1, status: () => (state === "FAILED" ? "FAILED" : "SUCCEEDED") }] });
    const { code, stdout, stderr } = await cli(["--stack", "dev", "cancel", RUN, "--yes"]);
    expect(code).toBe(0);
    expect(stdout).toBe(`run ${RUN} already ended (${state}): nothing to terminate\n`);
    expect(stderr).toBe("");
    expect(terminateInputs()).toEqual([]);
  });

  it("a run Batch does not list is the unknown-run error (exit 2)", async () => {
    const { code, stderr } = await cli(["--stack", "dev", "cancel", RUN, "--yes"]);
    expect(code).toBe(2);
    expect(stderr).toContain(`error: no jobs of run ${RUN} on ${OUTPUTS.startQueueArn} or ${OUTPUTS.processQueueArn}`);
    expect(terminateInputs()).toEqual([]);
  });

  it("a malformed run id is refused before any AWS call (exit 2)", async () => {
    const { code, stderr } = await cli(["--stack", "dev", "cancel", "not-a-run", "--yes"]);
    expect(code).toBe(2);
    expect(stderr).toBe("error: `not-a-run` is not a run id: run ids are 24 lowercase hex characters, as `batch-pipeline submit` and `batch-pipeline runs` print them\n");
    expect(batch.calls()).toHaveLength(0);
  });
});
