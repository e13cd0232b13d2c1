/**
 * The inline orchestration (`orchestrator.mode` inline or auto) as it would be deployed: the trigger's factory
 * `inlineTriggerHandlerFactory(workflow)` (infra/triggerHandler.ts, through tests/e2e/inlineLambdaProbe.ts, one
 * workflow each) compiled by tsc, serialized by Pulumi's closure serializer as `aws.lambda.CallbackFunction`
 * does (scripts/lambda-package.cjs, one build for the file), loaded in a fresh Node process per invocation and
 * invoked with S3 events. Its real SDK clients talk to the local AWS-compatible endpoint: Batch answered by the
 * Batch model (array size and dependency limits, names, ambiguous failures), DynamoDB for Powertools' record.
 * The same checks the start job's container passes (tests/e2e/orchestrator-bundle.test.ts,
 * tests/batch/submitter.test.ts), with the trigger's own: one claim per run id, the invocation's time budget.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { TERMINATION_REASON_PREFIX } from "../../batch/attempts";
import { encodeJobDefinitions, IDEMPOTENCY_KEY_PREFIX } from "../../contract/codec";
import { AUTO_INLINE_MAX_SUBMIT_JOBS } from "../../contract/orchestration";
import { planWorkflow, type Plan } from "../../workflow/planner";
import { tooManyRequests } from "../support/batchSemantics";
import { DEFAULT_WORKFLOW, defaultWorkflow, type WorkflowSpec } from "../../workflow/spec";
import { FAN_IN_ARRAYS, FAN_IN_WORKFLOW, WIDE_WIDTH } from "./inlineLambdaProbe";
import { type Invocation, invokeLambda, lambdaEnv, s3Event, sqsBatch, STACK, START_QUEUE } from "./lambda";
import { builtLambdas } from "./lambdaBuild";
import { ROOT, setUpE2e } from "./setup";

const PROCESS_QUEUE = "arn:aws:batch:eu-west-1:123456789012:job-queue/low";
const JOB_DEFINITIONS = { process: "process-def", barrier: "barrier-def" };
const OUTPUT_ROOT = "results/";
const TAGS = { project: "batch-pipeline" };
/** What infra/trigger.ts adds to the trigger's environment with `orchestrator.mode` inline. */
const INLINE_ENV = {
  ORCHESTRATOR_MODE: "inline",
  PIPELINE_PROCESS_QUEUE: PROCESS_QUEUE,
  PIPELINE_JOB_DEFINITIONS: encodeJobDefinitions(JOB_DEFINITIONS),
  PIPELINE_OUTPUT_ROOT: OUTPUT_ROOT,
};
const LAMBDAS = ["inlineDefault", "inlineWide", "inlineFanIn"] as const;
type Lambda = (typeof LAMBDAS)[number];

// The inline Lambdas of the one shared build (lambdaBuild.ts), beside the container one.
const e2e = setUpE2e("inline-", () => builtLambdas());

const invoke = (lambda: Lambda, event: unknown, opts: { env?: Record<string, string>; remainingMs?: number } = {}): Promise<Invocation> =>
  invokeLambda(path.join(e2e.built.dir, lambda), event, e2e.stub.url, { ...INLINE_ENV, ...opts.env }, opts.remainingMs);

/** The plan the trigger makes for an event's object (s3Event's fields), planned here in-process. */
function planFor(workflow: WorkflowSpec, runId: string, key: string, versionId: string, sizeBytes = 10): Plan {
  return planWorkflow(workflow, {
    runId,
    input: { bucket: "input-bucket", key, versionId, sizeBytes, eTag: "abc" },
    jobQueue: PROCESS_QUEUE,
    jobDefinitions: JOB_DEFINITIONS,
    stack: STACK,
    tags: TAGS,
    outputRoot: OUTPUT_ROOT,
  });
}

const submittedOf = (runId: string) => e2e.stub.submitted.filter((s) => String(s.jobName).includes(runId));
const jobsOf = (runId: string) => e2e.stub.jobs.filter((j) => j.jobName.startsWith(`${runId}-`));
const callsSince = (from: number) => e2e.stub.calls.slice(from).filter((c) => c.service === "batch").map((c) => c.operation);
/** The run's Powertools record: keyed by the prefix and the MD5 (base64) of its JSON payload, the run id (BasePersistenceLayer). */
const recordOf = (runId: string) => e2e.stub.table.get(`${IDEMPOTENCY_KEY_PREFIX}#${createHash("md5").update(JSON.stringify(runId)).digest("base64")}`);

/**
 * Every planned request was accepted as planned, with Batch's ids of its dependencies in `dependsOn`; no start job.
 * `ids`: the handler's stored jobs are the DAG's first only, so the ids are Batch's, by job name.
 */
function expectDagAccepted(plan: Plan) {
  const ids = new Map(jobsOf(plan.runId).map((j) => [j.jobName, j.jobId]));
  const nameOf = new Map(plan.jobs.map((j) => [j.id, j.request.jobName!]));
  const expected = plan.jobs.map((job) => ({
    ...job.request,
    ...(job.dependsOn.length > 0 ? { dependsOn: job.dependsOn.map((d) => ({ jobId: ids.get(nameOf.get(d.id)!), ...(d.type ? { type: d.type } : {}) })) } : {}),
  }));
  // Jobs whose dependencies are in go in parallel (four at a time): in Batch in any order among themselves.
  const byName = (a: { jobName?: string }, b: { jobName?: string }) => a.jobName!.localeCompare(b.jobName!);
  expect([...submittedOf(plan.runId)].sort(byName)).toEqual(expected.sort(byName));
  expect(jobsOf(plan.runId).map((j) => j.jobName).sort()).toEqual(plan.jobs.map((j) => j.request.jobName).sort());
  expect(submittedOf(plan.runId).filter((s) => s.jobQueue === START_QUEUE || String(s.jobName).startsWith("start-"))).toEqual([]);
  for (const body of submittedOf(plan.runId)) {
    expect(body.jobQueue).toBe(PROCESS_QUEUE);
    expect(body.tags).toMatchObject({ ...TAGS, "pipeline:stack": STACK, "pipeline:run-id": plan.runId, "pipeline:step": expect.any(String) });
  }
}

/** The run the handler reports for its one record. */
function runOf(out: Invocation): { runId: string; status: string; orchestrator?: string; jobs?: number; jobId: string } {
  expect(out.error).toBeUndefined();
  expect(out.result.jobs).toHaveLength(1);
  return out.result.jobs[0];
}

describe("the serialized inline trigger Lambda", () => {
  it("uploads the handler alone, planner and submitter with it, the workflow captured by value: no zod, npm packages loaded at run time", () => {
    for (const lambda of LAMBDAS) {
      expect(e2e.built.summaries[lambda].packages).toEqual([]);
      expect(e2e.built.summaries[lambda].zippedBytes).toBeLessThan(100 * 1024);
      const code = readFileSync(path.join(e2e.built.dir, lambda, "__index.js"), "utf8");
      expect([...new Set([...code.matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]))].sort()).toEqual([
        "@aws-lambda-powertools/idempotency",
        "@aws-lambda-powertools/idempotency/dynamodb",
        "@aws-sdk/client-batch",
        "@aws-sdk/client-dynamodb",
      ]);
      expect(code).not.toMatch(/__vi_import|__vite_ssr/);
    }
  });

  it("submits the default workflow's DAG itself: the planned requests, Batch's ids in dependsOn, the pipeline's tags, no start job; the run id claimed once", async () => {
    const out = await invoke("inlineDefault", s3Event({ key: "incoming/default.csv", versionId: "v1", size: 2048 }));
    const run = runOf(out);
    expect(run).toMatchObject({ status: "submitted", orchestrator: "inline", jobs: 3 });
    const plan = planFor(DEFAULT_WORKFLOW, run.runId, "incoming/default.csv", "v1", 2048);
    expectDagAccepted(plan);
    expect(submittedOf(run.runId).map((s) => [s.jobName, s.arrayProperties?.size, s.dependsOn?.length])).toEqual([
      [`${run.runId}-prepare`, undefined, undefined],
      [`${run.runId}-process`, 3, 1],
      [`${run.runId}-merge`, undefined, 1],
    ]);
    expect(run.jobId).toBe(jobsOf(run.runId).find((j) => j.jobName === `${run.runId}-prepare`)!.jobId);
    // Powertools' record: claimed, then completed with the DAG's first job.
    expect(recordOf(run.runId)!.status).toEqual({ S: "COMPLETED" });
    expect(recordOf(run.runId)!.data).toEqual({ M: { runId: { S: run.runId }, jobId: { S: run.jobId }, jobName: { S: `${run.runId}-prepare` }, orchestrator: { S: "inline" }, jobs: { N: "3" } } });
  });

  it("submits nothing when the same event is delivered again (a fresh process: the record, not a memory cache)", async () => {
    const from = e2e.stub.calls.length;
    const before = e2e.stub.submitted.length;
    const run = runOf(await invoke("inlineDefault", s3Event({ key: "incoming/default.csv", versionId: "v1", size: 2048 })));
    expect(run).toMatchObject({ status: "duplicate", orchestrator: "inline", jobs: 3 });
    expect(e2e.stub.submitted.length).toBe(before);
    // Not even a ListJobs: the record answered.
    expect(callsSince(from).filter((op) => op !== "PutItem")).toEqual([]);
  });

  it(`splits a step of ${WIDE_WIDTH.toLocaleString("en")} tasks into arrays Batch accepts (at most 10,000 children each)`, async () => {
    const run = runOf(await invoke("inlineWide", s3Event({ key: "incoming/wide.csv", versionId: "v1" })));
    expect(run).toMatchObject({ status: "submitted", jobs: 4 });
    expectDagAccepted(planFor(defaultWorkflow(WIDE_WIDTH), run.runId, "incoming/wide.csv", "v1"));
    expect(submittedOf(run.runId).map((s) => s.arrayProperties?.size)).toEqual([undefined, 5_001, 5_000, undefined]);
  });

  it(`fans ${FAN_IN_ARRAYS} arrays into one job through a barrier tree (Batch: at most 20 dependencies a job)`, async () => {
    const run = runOf(await invoke("inlineFanIn", s3Event({ key: "incoming/fan-in.csv", versionId: "v1" })));
    const plan = planFor(FAN_IN_WORKFLOW, run.runId, "incoming/fan-in.csv", "v1");
    expect(run).toMatchObject({ status: "submitted", jobs: plan.jobs.length });
    expectDagAccepted(plan);
    const bodies = submittedOf(run.runId);
    expect(bodies.filter((s) => s.arrayProperties?.size === 10)).toHaveLength(FAN_IN_ARRAYS);
    expect(bodies.filter((s) => s.jobDefinition === "barrier-def").length).toBeGreaterThan(0);
    expect(Math.max(...bodies.map((s) => s.dependsOn?.length ?? 0))).toBeLessThanOrEqual(20);
  });

  it("fails the record when Batch refuses the root's SubmitJob, naming why, with nothing submitted or claimed; Lambda's retry then submits the DAG", async () => {
    const event = s3Event({ key: "incoming/refused-root.csv", versionId: "v1" });
    e2e.stub.rejectNext(1, "Job definition process-def is INACTIVE");
    const refused = await invoke("inlineDefault", event);
    expect(refused.ok).toBe(false);
    expect(refused.error!.name).toBe("TriggerRecordsFailedError");
    expect(refused.error!.message).toMatch(
      /^1 of 1 S3 record\(s\) failed: #0 s3:\/\/input-bucket\/incoming\/refused-root\.csv \(version v1\): run ([0-9a-f]{24}) was not submitted: SubmissionError: run \1: submission failed after 0 of 3 jobs \(ClientException: Job definition process-def is INACTIVE\); terminated 0$/,
    );
    const runId = /run ([0-9a-f]{24})/.exec(refused.error!.message)![1]!;
    expect(jobsOf(runId)).toEqual([]);
    expect(e2e.stub.submitted.filter((s) => s.jobQueue === START_QUEUE)).toEqual([]);
    // Powertools deleted the claim: the retry is not a duplicate.
    expect(recordOf(runId)).toBeUndefined();
    const retried = runOf(await invoke("inlineDefault", event));
    expect(retried).toMatchObject({ runId, status: "submitted", jobs: 3 });
    expectDagAccepted(planFor(DEFAULT_WORKFLOW, runId, "incoming/refused-root.csv", "v1"));
  });

  it("after an invocation that died mid-DAG: its claim holds until its deadline; then the retry terminates the partial DAG, waits until it has stopped and submits the whole plan", async () => {
    const event = s3Event({ key: "incoming/crashed.csv", versionId: "v1" });
    // The first invocation dies (killed as Lambda kills one at its timeout, or out of memory) while its
    // SubmitJob of `process` is in flight; Batch accepts it: prepare and process are in Batch, merge is not.
    const child: ChildProcess = spawn(process.execPath, [path.join(ROOT, "scripts", "lambda-invoke.cjs"), path.join(e2e.built.dir, "inlineDefault")], {
      cwd: e2e.built.dir,
      env: lambdaEnv(e2e.stub.url, INLINE_ENV),
      stdio: ["pipe", "ignore", "ignore"],
    });
    e2e.stub.onBatchCall = (url, body) => {
      if (url === "/v1/submitjob" && String(body.jobName).endsWith("-process")) child.kill("SIGKILL");
    };
    child.stdin!.end(JSON.stringify(event));
    const [, signal] = await once(child, "exit");
    e2e.stub.onBatchCall = undefined;
    expect(signal).toBe("SIGKILL");
    const runId = /^([0-9a-f]{24})-/.exec(e2e.stub.submitted.at(-1).jobName)![1]!;
    const partial = jobsOf(runId);
    const partialIds = partial.map((j) => j.jobId);
    expect(partial.map((j) => j.jobName)).toEqual([`${runId}-prepare`, `${runId}-process`]);
    expect(recordOf(runId)!.status).toEqual({ S: "INPROGRESS" });

    // Delivered again before the dead invocation's deadline (its claim's in-progress expiry): refused, nothing submitted.
    const early = await invoke("inlineDefault", event);
    expect(early.ok).toBe(false);
    expect(early.error!.message).toContain("IdempotencyAlreadyInProgressError");
    expect(jobsOf(runId)).toHaveLength(2);

    // Lambda retries an asynchronous event after a minute at the earliest, past the function's 60 s timeout:
    // the claim has expired by then. Rather than wait its 30 s, the test moves the expiry into the past.
    const claim = recordOf(runId)!;
    claim.in_progress_expiration = { N: String(Date.now() - 1) };
    const from = e2e.stub.calls.length;
    const retried = runOf(await invoke("inlineDefault", event));
    expect(retried).toMatchObject({ runId, status: "submitted", jobs: 3 });
    expect(callsSince(from).filter((op) => op === "ListJobs" || op === "TerminateJob" || op === "DescribeJobs" || op === "SubmitJob")).toEqual([
      "ListJobs",
      "TerminateJob",
      "TerminateJob",
      "DescribeJobs",
      "SubmitJob",
      "SubmitJob",
      "SubmitJob",
    ]);
    for (const job of partial) {
      expect(job.status).toBe("FAILED");
      expect(job.statusReason).toContain(`${TERMINATION_REASON_PREFIX} run ${runId}`);
    }
    const fresh = jobsOf(runId).filter((j) => !partialIds.includes(j.jobId));
    expect(fresh.map((j) => j.jobName)).toEqual(["prepare", "process", "merge"].map((s) => `${runId}-${s}`));
    expect(e2e.stub.submitted.find((s) => s.jobName === `${runId}-merge`).dependsOn).toEqual([{ jobId: fresh[1]!.jobId }]);
    expect(recordOf(runId)!.status).toEqual({ S: "COMPLETED" });
  });

  // SubmitJob has no client token: a 500 can follow the job's creation. The inline submit client does not retry
  // SubmitJob (the SDK would, a 500 being transient to it, and create the job twice); the submitter looks it up by name.
  it("after an HTTP 500 from a SubmitJob that created the job, uses that job instead of submitting it again", async () => {
    const from = e2e.stub.calls.length;
    e2e.stub.failAfterCreatingNext(1);
    const run = runOf(await invoke("inlineDefault", s3Event({ key: "incoming/ambiguous.csv", versionId: "v1" })));
    expect(run).toMatchObject({ status: "submitted", jobs: 3 });
    const { runId } = run;
    const submits = e2e.stub.calls.slice(from).filter((c) => c.operation === "SubmitJob");
    expect(submits.map((c) => c.body.jobName)).toEqual(["prepare", "process", "merge"].map((s) => `${runId}-${s}`));
    for (const step of ["prepare", "process", "merge"]) expect(jobsOf(runId).filter((j) => j.jobName === `${runId}-${step}`), step).toHaveLength(1);
    expect(e2e.stub.calls.slice(from)).toContainEqual(
      expect.objectContaining({ operation: "ListJobs", body: { jobQueue: PROCESS_QUEUE, filters: [{ name: "JOB_NAME", values: [`${runId}-prepare`] }] } }),
    );
    const prepare = jobsOf(runId).find((j) => j.jobName === `${runId}-prepare`)!;
    expect(run.jobId).toBe(prepare.jobId);
    expect(e2e.stub.submitted.find((s) => s.jobName === `${runId}-process`).dependsOn).toEqual([{ jobId: prepare.jobId }]);
  });

  describe("the invocation's time budget (its deadline minus 10 s to undo its part)", () => {
    // Batch throttles every SubmitJob of `process` while this is on: the backoff never ends within the budget.
    let throttling = false;
    const throttleProcess = () => {
      throttling = true;
      e2e.stub.batch.failNext("SubmitJob", { error: tooManyRequests, when: (input) => throttling && String(input.jobName).endsWith("-process"), times: 1_000_000 });
    };
    const REMAINING_MS = 11_500; // a budget of 1.5 s

    it("fails an asynchronous invocation past it, terminating what it submitted and storing nothing, well before its deadline", async () => {
      throttleProcess();
      try {
        const out = await invoke("inlineDefault", s3Event({ key: "incoming/throttled.csv", versionId: "v1" }), { remainingMs: REMAINING_MS });
        expect(out.ok).toBe(false);
        expect(out.error!.name).toBe("TriggerRecordsFailedError");
        expect(out.error!.message).toMatch(/run ([0-9a-f]{24}) was not submitted: SubmissionError: run \1: submission failed after 1 of 3 jobs \((?:Error: aborted: )?InlineBudgetError: run \1: its 3 SubmitJob call\(s\) did not fit the invocation's budget .*\); terminated 1$/);
        const runId = /run ([0-9a-f]{24})/.exec(out.error!.message)![1]!;
        const [prepare, ...rest] = jobsOf(runId);
        expect(rest).toEqual([]);
        expect(prepare!.status).toBe("FAILED");
        expect(prepare!.statusReason).toContain(`${TERMINATION_REASON_PREFIX} run ${runId}`);
        expect(recordOf(runId)).toBeUndefined();
        // It stopped at the budget's end, with its 10 s reserve left (the cleanup took a few calls).
        expect(out.invokeMs).toBeLessThan(REMAINING_MS - 10_000 + 2_000);
      } finally {
        throttling = false;
      }
    });

    it("answers an SQS batch past it with the message among batchItemFailures, its part undone", async () => {
      throttleProcess();
      try {
        const out = await invoke("inlineDefault", sqsBatch(s3Event({ key: "incoming/queued-throttled.csv", versionId: "q1" })), { remainingMs: REMAINING_MS });
        expect(out).toMatchObject({ ok: true, result: { batchItemFailures: [{ itemIdentifier: "m-0" }] } });
        const [prepare] = e2e.stub.submitted.filter((s) => String(s.jobName).endsWith("-prepare")).slice(-1);
        const runId = String(prepare.jobName).slice(0, 24);
        expect(jobsOf(runId).map((j) => [j.jobName, j.status])).toEqual([[`${runId}-prepare`, "FAILED"]]);
        expect(recordOf(runId)).toBeUndefined();
      } finally {
        throttling = false;
      }
    });
  });

  describe("orchestrator.mode auto", () => {
    it(`submits a plan of at most ${AUTO_INLINE_MAX_SUBMIT_JOBS} SubmitJob calls itself`, async () => {
      const run = runOf(await invoke("inlineDefault", s3Event({ key: "incoming/auto-small.csv", versionId: "v1" }), { env: { ORCHESTRATOR_MODE: "auto" } }));
      expect(run).toMatchObject({ status: "submitted", orchestrator: "inline", jobs: 3 });
      expectDagAccepted(planFor(DEFAULT_WORKFLOW, run.runId, "incoming/auto-small.csv", "v1"));
    });

    it(`leaves a larger plan (the ${FAN_IN_ARRAYS}-array fan-in) to a start job`, async () => {
      const before = e2e.stub.submitted.length;
      const run = runOf(await invoke("inlineFanIn", s3Event({ key: "incoming/auto-large.csv", versionId: "v1" }), { env: { ORCHESTRATOR_MODE: "auto" } }));
      expect(planFor(FAN_IN_WORKFLOW, run.runId, "incoming/auto-large.csv", "v1").jobs.length).toBeGreaterThan(AUTO_INLINE_MAX_SUBMIT_JOBS);
      expect(run.status).toBe("submitted");
      expect(run.orchestrator).toBeUndefined();
      const submitted = e2e.stub.submitted.slice(before);
      expect(submitted.map((s) => [s.jobQueue, s.jobDefinition, s.jobName])).toEqual([[START_QUEUE, "start-def", expect.stringMatching(new RegExp(`^start-${run.runId}-`))]]);
      expect(jobsOf(run.runId)).toEqual([]);
    });
  });
});
