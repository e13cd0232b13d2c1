import { BatchClient, ClientException, DescribeJobsCommand, ListJobsCommand, SubmitJobCommand, TerminateJobCommand, type JobStatus, type SubmitJobCommandInput } from "@aws-sdk/client-batch";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { EXIT_CODES, run, type CliDeps } from "../../jobs/orchestrator";
import type { Plan } from "../../workflow/planner";
import { defaultWorkflow } from "../../workflow/spec";
import { accessDenied, clientError, FakeBatch, serverError, tooManyRequests } from "./fakeBatch";
import { RUN_ID, startJobEnv } from "./fixtures";

const batchMock = mockClient(BatchClient);

const ENV = startJobEnv();

/** Runs the CLI in-process, capturing stdout and the JSON log lines on stderr. */
async function cli(argv: string[], env: Record<string, string | undefined> = ENV, deps: CliDeps = {}) {
  let stdout = "";
  let stderr = "";
  const batch = vi.fn(() => new BatchClient({ region: "us-east-1" }));
  const code = await run(argv, env, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), batch, sleep: async () => {}, ...deps });
  const logs = stderr
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code, stdout, stderr, logs, batch };
}

beforeEach(() => {
  batchMock.reset();
  batchMock.on(ListJobsCommand).resolves({ jobSummaryList: [] });
  batchMock.on(SubmitJobCommand).callsFake((input: SubmitJobCommandInput) => ({ jobId: `id-${input.jobName}`, jobName: input.jobName }));
});

describe("--dry-run", () => {
  it("prints the plan as a tree without creating a Batch client", async () => {
    const { code, stdout, batch } = await cli(["--dry-run"]);

    expect(code).toBe(EXIT_CODES.ok);
    expect(batch).not.toHaveBeenCalled();
    expect(batchMock.calls()).toHaveLength(0);
    expect(stdout).toBe(
      [
        `run ${RUN_ID}: 3 steps, 3 SubmitJob calls, 5 tasks → queue process-queue`,
        "input s3://input-bucket/incoming/data file.csv (2,048 bytes)",
        "├─ prepare  1 task in 1 job",
        "│  └─ prepare  job (task 0)  def=process-def",
        "├─ process  3 tasks in 1 job",
        "│  └─ process  array ×3 (tasks 0–2)  def=process-def  after prepare",
        "└─ merge  1 task in 1 job",
        "   └─ merge  job (task 0)  def=process-def  after process",
        "",
      ].join("\n"),
    );
  });

  it("elides the middle of a step with many jobs in the tree", async () => {
    const { stdout } = await cli(["--dry-run", "--workflow", JSON.stringify(defaultWorkflow(1_000_000))]);
    expect(stdout).toContain("│  ├─ process-p2  array ×10,000 (tasks 20,000–29,999)  def=process-def  after prepare\n│  ├─ … 94 more jobs like these …\n");
    expect(stdout).toContain("└─ merge  1 task in 1 job, 5 barrier jobs");
    expect(stdout).toContain("merge  job (task 0)  def=process-def  after merge-b1-0, merge-b1-1, merge-b1-2, … +17 more");
  });

  it("prints the plan as JSON, with flags overriding the environment", async () => {
    const { code, stdout } = await cli(["--dry-run", "--format", "json", "--size", "99", "--version-id", "v7"]);

    expect(code).toBe(EXIT_CODES.ok);
    const plan = JSON.parse(stdout) as Plan;
    expect(plan.input).toEqual({ bucket: "input-bucket", key: "incoming/data file.csv", versionId: "v7", sizeBytes: 99, eTag: "abc" });
    expect(plan.jobs.map((j) => j.request.jobName)).toEqual([`${RUN_ID}-prepare`, `${RUN_ID}-process`, `${RUN_ID}-merge`]);
    expect(plan.jobs[2].dependsOn).toEqual([{ id: "process" }]);
  });
});

describe("input validation", () => {
  it.each([
    ["PIPELINE_INPUT_BUCKET", undefined, "PIPELINE_INPUT_BUCKET (--bucket) is required (the input bucket name)"],
    ["PIPELINE_RUN_ID", "not-hex", "PIPELINE_RUN_ID (--run-id) must match /^[0-9a-f]{24}$/"],
    ["PIPELINE_INPUT_SIZE", "12kB", "PIPELINE_INPUT_SIZE (--size) must be a non-negative integer number of bytes"],
    ["PIPELINE_PROCESS_QUEUE", "", "PIPELINE_PROCESS_QUEUE (--queue) is required (the process job queue name or ARN)"],
    ["PIPELINE_JOB_DEFINITIONS", "{process:", "PIPELINE_JOB_DEFINITIONS (--job-definitions) is not valid JSON"],
    ["PIPELINE_JOB_DEFINITIONS", "[]", "PIPELINE_JOB_DEFINITIONS (--job-definitions) must be a JSON object"],
    ["PIPELINE_WORKFLOW", "{", "PIPELINE_WORKFLOW (--workflow): workflow: not valid JSON"],
    [
      "PIPELINE_WORKFLOW",
      JSON.stringify({ steps: [{ name: "a", jobDefinition: "nope" }] }),
      "PIPELINE_WORKFLOW (--workflow): workflow step `a`: jobDefinition `nope` is not a known job definition key (known: process, barrier)",
    ],
    ["AWS_BATCH_JOB_ATTEMPT", "0", "AWS_BATCH_JOB_ATTEMPT must be a positive integer"],
    ["PIPELINE_JOB_TAGS", "{team:", "PIPELINE_JOB_TAGS is not valid JSON"],
    ["PIPELINE_JOB_TAGS", '{"team": 7}', "PIPELINE_JOB_TAGS must be a JSON object of string tags"],
    ["PIPELINE_JOB_TAGS", '{"aws:team": "data"}', "PIPELINE_JOB_TAGS: tag key `aws:team` must have 1 to 128 characters and not start with `aws:`"],
    ["PIPELINE_JOB_TAGS", '{"pipeline:team": "data"}', "PIPELINE_JOB_TAGS: tag key `pipeline:team` must not start with `pipeline:`"],
    ["PIPELINE_STACK", undefined, "PIPELINE_STACK (--stack) is required (the stack's id, a tag value)"],
    ["PIPELINE_STACK", "", "PIPELINE_STACK (--stack) is required (the stack's id, a tag value)"],
    ["PIPELINE_STACK", "acme,prod", "PIPELINE_STACK (--stack) must be an AWS tag value (letters, digits, spaces and _ . : / = + - @)"],
    ["PIPELINE_STACK", "s".repeat(257), "PIPELINE_STACK (--stack) must be at most 256 characters (an AWS tag value)"],
  ])("rejects %s=%j, naming the variable", async (variable, value, problem) => {
    const { code, logs } = await cli(["--dry-run"], { ...ENV, [variable]: value });

    expect(code).toBe(EXIT_CODES.invalidInput);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ level: "error", message: "invalid input" });
    expect(logs[0].problems).toContainEqual(expect.stringContaining(problem));
  });

  it("reports a workflow that cannot be planned for this input (barriers needed, none defined)", async () => {
    const { code, logs } = await cli(["--dry-run", "--workflow", JSON.stringify(defaultWorkflow(1_000_000)), "--job-definitions", '{"process":"p"}']);
    expect(code).toBe(EXIT_CODES.invalidInput);
    expect(logs).toEqual([
      expect.objectContaining({ runId: RUN_ID, message: "cannot plan the workflow for this input", error: expect.stringContaining("job definition key `barrier` is not in the job definitions map") }),
    ]);
  });

  it("rejects unknown flags and formats with a usage error", async () => {
    expect((await cli(["--dry-run", "--format", "yaml"])).code).toBe(EXIT_CODES.invalidInput);
    const { code, stderr } = await cli(["--frobnicate"]);
    expect(code).toBe(EXIT_CODES.invalidInput);
    expect(stderr).toContain("unknown option '--frobnicate'");
  });

  it("prints help", async () => {
    const { code, stdout } = await cli(["--help"]);
    expect(code).toBe(EXIT_CODES.ok);
    expect(stdout).toContain("--dry-run");
    expect(stdout).toContain("env PIPELINE_WORKFLOW");
  });
});

describe("submitting", () => {
  const START_NAME = `start-${RUN_ID}-data-file`;
  const START_QUEUE = "arn:aws:batch:eu-west-1:123456789012:job-queue/high";
  /** Batch as a start job sees itself: DescribeJobs of its own id, and its namesakes on the start queue. */
  function startJobs(jobs: { jobId: string; createdAt: number; status: JobStatus }[]) {
    batchMock.on(DescribeJobsCommand).callsFake(({ jobs: ids }: { jobs: string[] }) => ({
      jobs: jobs.filter((j) => ids.includes(j.jobId)).map((j) => ({ ...j, jobName: START_NAME, jobQueue: START_QUEUE, jobDefinition: "start", startedAt: 0 })),
    }));
    batchMock
      .on(ListJobsCommand, { jobQueue: START_QUEUE, filters: [{ name: "JOB_NAME", values: [START_NAME] }] })
      .resolves({ jobSummaryList: jobs.map((j) => ({ ...j, jobName: START_NAME })) });
  }

  it("submits the DAG, prints the job ids and logs JSON lines with the run id", async () => {
    startJobs([{ jobId: "start-job", createdAt: 1000, status: "RUNNING" }]);
    const { code, stdout, logs } = await cli([], { ...ENV, AWS_BATCH_JOB_ID: "start-job", AWS_BATCH_JOB_ATTEMPT: "1" });

    expect(code).toBe(EXIT_CODES.ok);
    expect(batchMock.commandCalls(SubmitJobCommand)).toHaveLength(3);
    expect(JSON.parse(stdout)).toEqual({
      runId: RUN_ID,
      outcome: "submitted",
      jobs: ["prepare", "process", "merge"].map((id) => ({ id, jobName: `${RUN_ID}-${id}`, jobId: `id-${RUN_ID}-${id}` })),
    });
    expect(logs.map((l) => l.message)).toEqual(["planned", "submitted the run's DAG"]);
    expect(logs.every((l) => l.runId === RUN_ID && l.batchJobId === "start-job" && typeof l.time === "string")).toBe(true);
  });

  it("given an older live start job of the same run (a lost SubmitJob response), exits 0 without submitting", async () => {
    startJobs([
      { jobId: "first", createdAt: 1000, status: "RUNNING" },
      { jobId: "second", createdAt: 1001, status: "RUNNING" },
    ]);
    const { code, stdout, logs } = await cli([], { ...ENV, AWS_BATCH_JOB_ID: "second" });

    expect(code).toBe(EXIT_CODES.ok);
    expect(JSON.parse(stdout)).toEqual({ runId: RUN_ID, outcome: "duplicate", owner: "first" });
    expect(batchMock.commandCalls(SubmitJobCommand)).toHaveLength(0);
    expect(batchMock.commandCalls(TerminateJobCommand)).toHaveLength(0);
    expect(logs.at(-1)).toMatchObject({ level: "warn", owner: "first", ownerStatus: "RUNNING" });
  });

  it("--wait: follows an older owner until it gives up, then takes the run over, submits and waits for it", async () => {
    const status: Record<string, JobStatus> = { first: "RUNNING", second: "RUNNING" };
    let ownerPolls = 0;
    batchMock.on(DescribeJobsCommand).callsFake(({ jobs: ids }: { jobs: string[] }) => ({
      jobs: ids.map((jobId) => {
        if (jobId === "first" && ++ownerPolls === 3) status.first = "FAILED"; // its submissions kept failing
        const start = jobId in status;
        return { jobId, jobName: start ? START_NAME : jobId, jobQueue: start ? START_QUEUE : "process-queue", jobDefinition: "d", startedAt: 0, createdAt: jobId === "first" ? 1000 : 2000, status: status[jobId] ?? "SUCCEEDED" };
      }),
    }));
    batchMock
      .on(ListJobsCommand, { jobQueue: START_QUEUE, filters: [{ name: "JOB_NAME", values: [START_NAME] }] })
      .callsFake(() => ({ jobSummaryList: Object.entries(status).map(([jobId, s]) => ({ jobId, jobName: START_NAME, createdAt: jobId === "first" ? 1000 : 2000, status: s })) }));

    const { code, stdout } = await cli(["--wait"], { ...ENV, AWS_BATCH_JOB_ID: "second" });

    expect(code).toBe(EXIT_CODES.ok);
    expect(ownerPolls).toBeGreaterThanOrEqual(3);
    expect(JSON.parse(stdout).outcome).toBe("submitted");
    expect(batchMock.commandCalls(SubmitJobCommand)).toHaveLength(3);
  });

  it("given only a FAILED older start job of the run, takes the run over and submits", async () => {
    startJobs([
      { jobId: "gave-up", createdAt: 1000, status: "FAILED" },
      { jobId: "again", createdAt: 5000, status: "RUNNING" },
    ]);
    const { code, stdout } = await cli([], { ...ENV, AWS_BATCH_JOB_ID: "again" });
    expect(code).toBe(EXIT_CODES.ok);
    expect(JSON.parse(stdout).outcome).toBe("submitted");
    expect(batchMock.commandCalls(SubmitJobCommand)).toHaveLength(3);
  });

  it("exits 3 (retry) when it cannot see itself in Batch", async () => {
    batchMock.on(DescribeJobsCommand).resolves({ jobs: [] });
    const { code, logs } = await cli([], { ...ENV, AWS_BATCH_JOB_ID: "ghost" });
    expect(code).toBe(EXIT_CODES.submissionFailed);
    expect(batchMock.commandCalls(SubmitJobCommand)).toHaveLength(0);
    expect(JSON.stringify(logs.at(-1))).toContain("DescribeJobs did not return this start job (ghost)");
  });

  it("adds the stack's tags (PIPELINE_JOB_TAGS) and its id (PIPELINE_STACK, what IAM keys on) to every process job", async () => {
    const { code } = await cli([], { ...ENV, PIPELINE_JOB_TAGS: JSON.stringify({ "cost-center": "data" }), PIPELINE_STACK: "acme-prod" });

    expect(code).toBe(EXIT_CODES.ok);
    expect(batchMock.commandCalls(SubmitJobCommand)).toHaveLength(3);
    for (const call of batchMock.commandCalls(SubmitJobCommand)) {
      expect(call.args[0].input.tags).toMatchObject({ "cost-center": "data", "pipeline:run-id": RUN_ID, "pipeline:stack": "acme-prod" });
    }
  });

  it("--wait exits 0 when every job succeeded", async () => {
    batchMock.on(DescribeJobsCommand).callsFake(({ jobs }: { jobs: string[] }) => ({
      jobs: jobs.map((jobId) => ({ jobId, jobName: jobId, status: "SUCCEEDED", jobQueue: "q", jobDefinition: "d", startedAt: 0 })),
    }));
    expect((await cli(["--wait"])).code).toBe(EXIT_CODES.ok);
  });

  it("--wait exits 1 when a job failed", async () => {
    batchMock.on(DescribeJobsCommand).callsFake(({ jobs }: { jobs: string[] }) => ({
      jobs: jobs.map((jobId, i) => ({ jobId, jobName: jobId, status: i === 1 ? "FAILED" : "PENDING", jobQueue: "q", jobDefinition: "d", startedAt: 0 })),
    }));
    const { code, logs } = await cli(["--wait", "--poll-interval", "5"]);
    expect(code).toBe(EXIT_CODES.runFailed);
    expect(logs.at(-1)).toMatchObject({ level: "error", message: "the run failed" });
  });

  it("--wait stops on SIGTERM without touching the DAG", async () => {
    const controller = new AbortController();
    batchMock.on(DescribeJobsCommand).callsFake(({ jobs }: { jobs: string[] }) => {
      controller.abort("SIGTERM");
      return { jobs: jobs.map((jobId) => ({ jobId, jobName: jobId, status: "RUNNING", jobQueue: "q", jobDefinition: "d", startedAt: 0 })) };
    });
    const { code } = await cli(["--wait"], ENV, { signal: controller.signal });
    expect(code).toBe(EXIT_CODES.interrupted);
    expect(batchMock.commandCalls(TerminateJobCommand)).toHaveLength(0);
  });

  // This test expected exit 3 (retried) for a ClientException: a deterministic refusal that every retry
  // would repeat, each time resubmitting and tearing down the DAG. It now expects 4 (not retried).
  it("exits 4 (not retried) after cleaning up when Batch refuses a SubmitJob as a client error (ClientException, HTTP 400)", async () => {
    batchMock.on(SubmitJobCommand, { jobName: `${RUN_ID}-merge` }).rejects(new ClientException({ message: "no such queue", $metadata: { httpStatusCode: 400 } }));
    const { code, logs } = await cli([], { ...ENV, AWS_BATCH_JOB_ATTEMPT: "2" });

    expect(code).toBe(EXIT_CODES.submissionRejected);
    expect(batchMock.commandCalls(TerminateJobCommand).map((c) => c.args[0].input.reason)).toEqual([
      `pipeline-orchestrator: run ${RUN_ID} attempt 2: submission failed after 2 of 3 jobs`,
      `pipeline-orchestrator: run ${RUN_ID} attempt 2: submission failed after 2 of 3 jobs`,
    ]);
    expect(logs.at(-1)).toMatchObject({ level: "error", message: expect.stringMatching(/^run \w+: submission failed after 2 of 3 jobs/), retry: false });
  });
});

// Batch retries the start job on the exit codes START_JOB_EVALUATE_ON_EXIT lists (3 and 143). A retry only
// helps when the failure is transient; a deterministic one would resubmit and tear down the DAG each time.
describe("exit codes: deterministic failures are not retried, transient ones are", () => {
  it.each([
    ["AccessDeniedException (HTTP 403) on ListJobs", () => batchMock.on(ListJobsCommand).rejects(accessDenied()), EXIT_CODES.submissionRejected],
    ["ClientException (HTTP 400: inactive job definition) on SubmitJob", () => batchMock.on(SubmitJobCommand).rejects(clientError()), EXIT_CODES.submissionRejected],
    ["HTTP 500 on SubmitJob that created nothing, every time", () => batchMock.on(SubmitJobCommand).rejects(serverError()), EXIT_CODES.submissionFailed],
    ["throttling (HTTP 429) that outlasted every retry", () => batchMock.on(ListJobsCommand).rejects(tooManyRequests()), EXIT_CODES.submissionFailed],
  ])("%s → exit %i", async (_what, arrange, expected) => {
    arrange();
    const { code, logs } = await cli([]);
    expect(code).toBe(expected);
    expect(logs.at(-1)).toMatchObject({ level: "error", retry: expected === EXIT_CODES.submissionFailed });
  });

  it("exits 3 (retried) when an earlier attempt's partial DAG is still running after the wait for it to stop", async () => {
    const batch$ = new FakeBatch(batchMock);
    batch$.add({ jobId: "old-prepare", jobName: `${RUN_ID}-prepare`, status: "RUNNING", createdAt: 1, stuck: true });
    const { code, logs } = await cli([], { ...ENV, AWS_BATCH_JOB_ATTEMPT: "2" });
    expect(code).toBe(EXIT_CODES.submissionFailed);
    expect(batchMock.commandCalls(SubmitJobCommand)).toHaveLength(0);
    expect(String(logs.at(-1)!.message)).toMatch(/still not finished 605 s after TerminateJob/);
  });

  it("exits 143 when SIGTERM comes mid-submission, after terminating what it submitted", async () => {
    const controller = new AbortController();
    batchMock.on(SubmitJobCommand).callsFake((input: SubmitJobCommandInput) => {
      controller.abort("SIGTERM");
      return { jobId: `id-${input.jobName}`, jobName: input.jobName };
    });
    const { code } = await cli([], ENV, { signal: controller.signal });
    expect(code).toBe(EXIT_CODES.interrupted);
    expect(batchMock.commandCalls(TerminateJobCommand)).toHaveLength(1);
  });

  it("sends SubmitJob through the submit client when one is given (the one that never retries it)", async () => {
    const submitBatch = vi.fn(() => new BatchClient({ region: "us-east-1" }));
    await cli([], ENV, { submitBatch });
    expect(submitBatch).toHaveBeenCalledTimes(1);
  });
});

// A start job interrupted while waiting (SIGTERM: a Spot reclaim) exits 143, which START_JOB_EVALUATE_ON_EXIT
// retries. Batch keeps the job id across attempts; the retried attempt must find the complete DAG and wait
// for it again, so the run's real outcome, not the interruption, is what the start job reports.
describe("--wait across attempts", () => {
  it("attempt 2 after an interrupted wait finds the DAG (outcome existing), waits and reports the run's real outcome", async () => {
    const batch$ = new FakeBatch(batchMock);
    batch$.initialStatus = "RUNNING";
    batch$.add({ jobId: "start-job", jobName: `start-${RUN_ID}-data-file`, jobQueue: "start-queue", status: "RUNNING", createdAt: 1 });
    const env = { ...ENV, AWS_BATCH_JOB_ID: "start-job" };

    const controller = new AbortController();
    let polls = 0;
    const first = await cli(["--wait"], { ...env, AWS_BATCH_JOB_ATTEMPT: "1" }, {
      signal: controller.signal,
      sleep: async () => {
        if (++polls === 2) controller.abort("SIGTERM");
      },
    });
    expect(first.code).toBe(EXIT_CODES.interrupted);
    expect(JSON.parse(first.stdout).outcome).toBe("submitted");
    expect(batchMock.commandCalls(TerminateJobCommand)).toHaveLength(0);

    // While no start job waited, merge failed and the rest finished.
    for (const job of batch$.jobs) if (job.jobName.startsWith(RUN_ID)) job.status = job.jobName.endsWith("-merge") ? "FAILED" : "SUCCEEDED";
    const second = await cli(["--wait"], { ...env, AWS_BATCH_JOB_ATTEMPT: "2" });

    expect(second.code).toBe(EXIT_CODES.runFailed);
    expect(JSON.parse(second.stdout)).toMatchObject({ outcome: "existing", jobs: JSON.parse(first.stdout).jobs });
    expect(batchMock.commandCalls(SubmitJobCommand)).toHaveLength(3);
    expect(second.logs.at(-1)).toMatchObject({ level: "error", message: "the run failed", failed: [expect.objectContaining({ jobName: `${RUN_ID}-merge` })] });
    expect(second.logs.find((l) => l.message === "the run's DAG already exists; not submitting a second one")).toMatchObject({ attempt: 2 });
  });

  it("attempt 2 reports success when the DAG it picks up succeeds", async () => {
    const batch$ = new FakeBatch(batchMock);
    batch$.initialStatus = "SUCCEEDED";
    const first = await cli([]);
    expect(first.code).toBe(EXIT_CODES.ok);
    const second = await cli(["--wait"], { ...ENV, AWS_BATCH_JOB_ATTEMPT: "2" });
    expect(second.code).toBe(EXIT_CODES.ok);
    expect(JSON.parse(second.stdout).outcome).toBe("existing");
    expect(batch$.jobs).toHaveLength(3);
  });
});
