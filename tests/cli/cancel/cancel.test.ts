/**
 * `batch-pipeline cancel`: what it terminates and in which order (start jobs first, so none can submit
 * more; then the DAG; then the array children TerminateJob on a parent does not stop), the reason Batch
 * records, asking first on a terminal, waiting until it all ended (terminating what appears meanwhile),
 * and its exit codes. Batch is the stateful fake of tests/cli/batchRunFake.ts on the test clock: a job
 * terminated while running stops 30 s later (SIGKILL), ListJobs may show a new job late.
 */
import { BatchClient, ListJobsCommand, TerminateJobCommand } from "@aws-sdk/client-batch";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { BatchRunFake } from "../batchRunFake";
import { cli, cliContext, OUTPUTS } from "../support";

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

/** A context whose clock the fake keeps: jobs terminated while running stop 30 s later (SIGKILL). */
function context(options: Parameters<typeof cliContext>[0] = {}) {
  const ctx = cliContext({ env, ...options });
  fake.model.clock = ctx.clock;
  return ctx;
}

describe("cancel a run under way", () => {
  it("--yes terminates the start job first, then the DAG's live jobs, then the running array children, each with the reason, and waits until they ended", async () => {
    runUnderWay();
    const ctx = context();
    const { code, stdout, stderr } = await cli(["--stack", "dev", "cancel", RUN, "--yes", "--reason", "wrong input"], ctx);
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
    // The start job and the children stop 30 s after SIGTERM; the run is listed again until 60 s after the
    // start job stopped (ListJobs is eventually consistent: cli/runModel/model.ts LISTING_SETTLE_MS).
    const waiting = "waiting for the start job to stop (it may still submit jobs), 1 array job to end (3 children still running)";
    expect(stderr).toBe(
      [
        `terminating 32 jobs (4 running, 28 waiting) of run ${RUN} (reason: ${REASON})`,
        `${waiting}; checking again in 5 s`,
        `${waiting}; checking again in 10 s`,
        `${waiting}; checking again in 20 s`,
        "waiting for Batch to list every job the start job submitted (ListJobs is eventually consistent); checking again in 55 s",
        "",
      ].join("\n"),
    );
    expect(ctx.slept).toEqual([5000, 10_000, 20_000, 55_000]);
    // Children listed per status, as ListJobs requires (without a status it lists only RUNNING ones), each poll until the parent ended.
    const childLists = batch.commandCalls(ListJobsCommand).map((c) => c.args[0].input).filter((i) => i.arrayJobId);
    expect(childLists).toEqual([0, 5, 15].flatMap(() => ["STARTING", "RUNNING"].map((jobStatus) => ({ arrayJobId: "process-012345-0", jobStatus, nextToken: undefined }))));
    expect(fake.find("process-012345-0")!.status).toBe("FAILED");
    expect(fake.find("process-012345-0:29")!.status).toBe("FAILED");
  });

  it("without --reason says so, and a missing USER is `unknown`", async () => {
    runUnderWay();
    await cli(["--stack", "dev", "cancel", RUN, "--yes"], context({ env: {} }));
    expect(new Set(terminateInputs().map((i) => i.reason))).toEqual(new Set(["batch-pipeline cancel by unknown: no reason given"]));
  });

  it("on a TTY asks first, with the counts, and terminates nothing unless the answer is yes (exit 1)", async () => {
    runUnderWay();
    const ctx = context({ isTTY: true, answers: [false] });
    const { code, stdout, stderr } = await cli(["--stack", "dev", "cancel", RUN], ctx);
    expect(ctx.questions).toEqual([`Terminate 32 jobs (4 running, 28 waiting) of run ${RUN}?`]);
    expect(code).toBe(1);
    expect(terminateInputs()).toEqual([]);
    expect(stdout).toBe("");
    expect(stderr).toBe("nothing terminated\n");
  });

  it("on a TTY answered yes, terminates", async () => {
    runUnderWay();
    const ctx = context({ isTTY: true, answers: [true] });
    const { code, stdout } = await cli(["--stack", "dev", "cancel", RUN], ctx);
    expect(code).toBe(0);
    expect(terminateInputs()).toHaveLength(6);
    expect(stdout).toBe(["start    terminated 1 start job", "process  terminated 1 job and 3 running array children", "merge    terminated 1 job", ""].join("\n"));
  });

  it("not on a TTY and without --yes, refuses (exit 2) and terminates nothing", async () => {
    runUnderWay();
    const { code, stdout, stderr } = await cli(["--stack", "dev", "cancel", RUN], context());
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toBe(`error: cancel would terminate 32 jobs (4 running, 28 waiting) of run ${RUN}; stdin is not a terminal to ask, so pass --yes to go ahead\n`);
    expect(terminateInputs()).toEqual([]);
  });

  it("--json prints one document: every job terminated (its state before), none failed, none still running", async () => {
    runUnderWay();
    const { code, stdout, stderr } = await cli(["--stack", "dev", "cancel", RUN, "--yes", "--json", "--reason", "wrong input"], context());
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
      stillRunning: [],
      wait: "done",
    });
  });

  it("a TerminateJob Batch refuses is reported with the job and AWS's reason, the rest still terminated (exit 3)", async () => {
    runUnderWay();
    fake.denyTerminate.add("merge-012345-0");
    const { code, stdout, stderr } = await cli(["--stack", "dev", "cancel", RUN, "--yes"], context());
    expect(code).toBe(3);
    expect(terminateInputs().map((i) => i.jobId)).toEqual(["start-012345", "process-012345-0", "merge-012345-0", "process-012345-0:0", "process-012345-0:1", "process-012345-0:2"]);
    expect(stdout).toContain("process  terminated 1 job and 3 running array children\nmerge    terminated nothing\n");
    expect(stderr).toContain(
      `error: could not terminate ${RUN}-merge (merge-012345-0, merge): AWS denied Batch TerminateJob merge-012345-0: User: arn:aws:iam::123456789012:user/operator is not authorized to perform: batch:TerminateJob on resource: arn:aws:batch:eu-west-1:123456789012:job/merge-012345-0 (give your identity this permission, or use another AWS_PROFILE)\n`,
    );
  });
});

describe("cancel: what appears after the first listing", () => {
  it("a job the start job submits just after the first listing, listed by Batch only 20 s later, is terminated once listed", async () => {
    runUnderWay();
    // TerminateJob API reference: a RUNNING job gets SIGTERM and runs on until SIGKILL; ListJobs is eventually consistent.
    fake.listLagMs = 20_000;
    fake.afterList = (input) => {
      if (input.jobQueue !== OUTPUTS.processQueueArn || fake.find("report-012345-late")) return;
      fake.submit(RUN, "report");
    };
    const ctx = context();
    const { code, stdout, stderr } = await cli(["--stack", "dev", "cancel", RUN, "--yes"], ctx);
    expect(code).toBe(0);
    expect(terminateInputs().map((i) => i.jobId)).toEqual(["start-012345", "process-012345-0", "merge-012345-0", "process-012345-0:0", "process-012345-0:1", "process-012345-0:2", "report-012345-late"]);
    expect(stdout).toBe(["start    terminated 1 start job", "process  terminated 1 job and 3 running array children", "merge    terminated 1 job", "report   terminated 1 job", ""].join("\n"));
    expect(stderr).toContain(`\nterminated 1 job that Batch listed only now: ${RUN}-report\n`);
    expect(ctx.slept).toEqual([5000, 10_000, 20_000, 55_000]);
  });

  it("a child reaching STARTING just as its parent is cancelled (CancelJob: not cancelled) is terminated when it shows up RUNNING", async () => {
    runUnderWay();
    fake.slipThrough.add("process-012345-0:29");
    const ctx = context();
    const sleep = ctx.sleep;
    ctx.sleep = async (ms) => {
      await sleep(ms);
      if (ctx.slept.length === 1) fake.setStatus("process-012345-0:29", "RUNNING");
    };
    const { code, stdout, stderr } = await cli(["--stack", "dev", "cancel", RUN, "--yes"], ctx);
    expect(code).toBe(0);
    expect(terminateInputs().map((i) => i.jobId).slice(3)).toEqual(["process-012345-0:0", "process-012345-0:1", "process-012345-0:2", "process-012345-0:29"]);
    expect(stdout).toContain("process  terminated 1 job and 4 running array children\n");
    expect(stderr).toContain(`\nterminated 1 array child that started after their array job was cancelled: ${RUN}-process[29]\n`);
    // The parent ends only once every child has (user guide, "Array jobs").
    expect(fake.find("process-012345-0")!.status).toBe("FAILED");
  });

  it("something still running 10 minutes after TerminateJob is named, and the exit is 3", async () => {
    runUnderWay();
    fake.stuck.add("process-012345-0:0");
    const ctx = context();
    const { code, stdout, stderr } = await cli(["--stack", "dev", "cancel", RUN, "--yes"], ctx);
    expect(code).toBe(3);
    expect(ctx.slept.reduce((a, b) => a + b, 0)).toBe(600_000);
    expect(ctx.slept.slice(0, 4)).toEqual([5000, 10_000, 20_000, 30_000]);
    expect(stdout).toBe(["start    terminated 1 start job", "process  terminated 1 job and 3 running array children", "merge    terminated 1 job", ""].join("\n"));
    expect(stderr.trimEnd().split("\n").at(-1)).toBe(
      `error: 2 jobs of run ${RUN} still running 600 s after TerminateJob: ${RUN}-process (process-012345-0, PENDING), ${RUN}-process[0] (process-012345-0:0, RUNNING); ` +
        `\`batch-pipeline status ${RUN}\` shows them, \`batch-pipeline cancel ${RUN} --yes\` terminates what is left`,
    );
    // The stuck child was terminated once, not every poll.
    expect(terminateInputs().filter((i) => i.jobId === "process-012345-0:0")).toHaveLength(1);
  });

  it("a Batch call refused while waiting stops the wait: what was terminated is still printed, with what may run (exit 3)", async () => {
    runUnderWay();
    const denied = "User: arn:aws:iam::123456789012:user/operator is not authorized to perform: batch:ListJobs";
    fake.afterList = (input) => {
      if (input.arrayJobId && batch.commandCalls(ListJobsCommand).filter((c) => c.args[0].input.arrayJobId).length > 2) throw Object.assign(new Error(denied), { name: "AccessDeniedException", $metadata: { httpStatusCode: 403 } });
    };
    const { code, stdout, stderr } = await cli(["--stack", "dev", "cancel", RUN, "--yes"], context());
    expect(code).toBe(3);
    expect(stdout).toContain("process  terminated 1 job and 3 running array children\n");
    expect(stderr.trimEnd().split("\n").at(-1)).toBe(
      `error: stopped waiting for the terminated jobs to end: AWS denied Batch ListJobs/DescribeJobs: ${denied} (give your identity this permission, or use another AWS_PROFILE); ` +
        `5 jobs of run ${RUN} still running: start-${RUN}-data-csv (start-012345, RUNNING), ${RUN}-process (process-012345-0, PENDING), ${[0, 1, 2].map((i) => `${RUN}-process[${i}] (process-012345-0:${i}, RUNNING)`).join(", ")}; ` +
        `\`batch-pipeline status ${RUN}\` shows them, \`batch-pipeline cancel ${RUN} --yes\` terminates what is left`,
    );
  });

  it("Ctrl-C while waiting stops the wait (exit 130) and says what may still run", async () => {
    runUnderWay();
    const ctx = context({ abortAfterSleeps: 1 });
    const { code, stderr } = await cli(["--stack", "dev", "cancel", RUN, "--yes", "--json"], ctx);
    expect(code).toBe(130);
    expect(stderr).toBe("");
    expect(JSON.parse(ctx.stdout()).stillRunning.map((j: { jobId: string }) => j.jobId)).toEqual(["start-012345", "process-012345-0", "process-012345-0:0", "process-012345-0:1", "process-012345-0:2"]);
  });

  it("nothing live listed yet, the start job stopped 10 s ago: waits until Batch's listing can be trusted, then terminates what it lists", async () => {
    fake.addRun({ runId: RUN, start: "SUCCEEDED", steps: [{ name: "process", width: 3, status: () => "RUNNABLE" }] });
    const ctx = context();
    fake.find("start-012345")!.stoppedAt = ctx.now() - 10_000;
    for (const job of fake.jobs) if (job.jobId !== "start-012345") job.listedFrom = ctx.now() + 20_000;
    const { code, stdout, stderr } = await cli(["--stack", "dev", "cancel", RUN, "--yes"], ctx);
    expect(code).toBe(0);
    expect(stderr.split("\n")[0]).toBe(`run ${RUN}'s start job stopped 10 s ago; Batch may not list every job it submitted yet (ListJobs is eventually consistent): looking again in 50 s`);
    expect(terminateInputs().map((i) => i.jobId)).toEqual(["process-012345-0"]);
    expect(stdout).toBe("process  terminated 1 job\n");
    expect(ctx.slept).toEqual([50_000]);
  });
});

describe("cancel: what counts as the run", () => {
  it("terminates live jobs of an earlier start attempt that newer jobs of the same name replaced", async () => {
    runUnderWay();
    const merge = fake.find("merge-012345-0")!;
    fake.namesake(merge, "merge-earlier-attempt", fake.epoch - 60_000, "RUNNABLE");
    const { code } = await cli(["--stack", "dev", "cancel", RUN, "--yes"], context());
    expect(code).toBe(0);
    expect(terminateInputs().map((i) => i.jobId)).toEqual(["start-012345", "merge-earlier-attempt", "process-012345-0", "merge-012345-0", "process-012345-0:0", "process-012345-0:1", "process-012345-0:2"]);
  });

  it("finds every running child past ListJobs' 100 a page", async () => {
    fake.addRun({ runId: RUN, start: "SUCCEEDED", steps: [{ name: "process", width: 250, status: () => "RUNNING" }] });
    const { code, stdout } = await cli(["--stack", "dev", "cancel", RUN, "--yes"], context());
    expect(code).toBe(0);
    const running = batch.commandCalls(ListJobsCommand).map((c) => c.args[0].input).filter((i) => i.jobStatus === "RUNNING");
    expect(running.slice(0, 3).map((i) => i.nextToken)).toEqual([undefined, "100", "200"]);
    expect(terminateInputs().map((i) => i.jobId)).toEqual(["process-012345-0", ...Array.from({ length: 250 }, (_, i) => `process-012345-0:${i}`)]);
    expect(stdout).toBe("process  terminated 1 job and 250 running array children\n");
  });

  it.each([
    ["SUCCEEDED", () => "SUCCEEDED" as const],
    ["FAILED", (t: number) => (t === 4 ? ("FAILED" as const) : ("SUCCEEDED" as const))],
  ])("a run that already ended %s: says so, exit 0, no TerminateJob", async (state, status) => {
    fake.addRun({ runId: RUN, start: "SUCCEEDED", steps: [{ name: "process", width: 12, status }, { name: "merge", width: 1, status: () => (state === "FAILED" ? "FAILED" : "SUCCEEDED") }] });
    const { code, stdout, stderr } = await cli(["--stack", "dev", "cancel", RUN, "--yes"], context({ env: {} }));
    expect(code).toBe(0);
    expect(stdout).toBe(`run ${RUN} already ended (${state}): nothing to terminate\n`);
    expect(stderr).toBe("");
    expect(terminateInputs()).toEqual([]);
  });

  it("a run Batch does not list is the unknown-run error (exit 2)", async () => {
    const { code, stderr } = await cli(["--stack", "dev", "cancel", RUN, "--yes"], context({ env: {} }));
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
