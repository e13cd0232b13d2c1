/**
 * functions/inline.ts through functions/handler.ts (`orchestrator.mode` inline and auto): the trigger plans the
 * run with the orchestrator's planner and submits its DAG with the orchestrator's submitter, inside the same
 * idempotency claim as a start job, within the invocation's budget. Batch is the one model
 * (tests/support/batchModel.ts) behind aws-sdk-client-mock, on a fake clock.
 */
import { SubmitJobCommand, type SubmitJobCommandInput } from "@aws-sdk/client-batch";
import { describe, expect, it } from "vitest";
import { AUTO_INLINE_MAX_SUBMIT_JOBS, INLINE_CLEANUP_RESERVE_MS, type InputObject, TAG_KEYS } from "../../contract";
import { computeRunId } from "../../contract/run";
import { createTriggerHandler, type SqsBatchResult, TriggerRecordsFailedError, type TriggerResult } from "../../functions/handler";
import { createInlineStarter, type InlineDeps } from "../../functions/inline";
import { planWorkflow } from "../../workflow/planner";
import { defaultWorkflow, parseWorkflowSpec, type WorkflowSpec } from "../../workflow/spec";
import { clientError, mockBatch, tooManyRequests } from "../jobs/fakeBatch";
import { memoryIdempotency } from "../support/memoryIdempotency";
import { recordingLogger } from "../support/recordingLogger";
import { BUCKET, record, s3Event } from "./s3Fixtures";
import { context, DEFINITION, KEY_FILTER, QUEUE, STACK } from "./triggerFixtures";
import { sqsBatch } from "../e2e/lambda";

const batch = mockBatch();
const PROCESS_QUEUE = "arn:aws:batch:eu-west-1:123456789012:job-queue/low";
const DEFINITIONS = { process: "pipeline-process", barrier: "pipeline-barrier" };
const KEY = "incoming/data.csv";
const OBJECT: InputObject = { bucket: BUCKET, key: KEY, versionId: "v1", sizeBytes: 2048, eTag: "etag-1" };
const TAGS = { project: "atlas" };

/** A trigger in `mode`, on the file's Batch model and clock; `workflow` defaults to the default workflow. */
function inlineHandler(mode: InlineDeps["mode"], workflow: WorkflowSpec = defaultWorkflow(), idempotency = memoryIdempotency()) {
  const log = recordingLogger();
  const inline = createInlineStarter({
    mode,
    workflow,
    target: { jobQueue: PROCESS_QUEUE, jobDefinitions: DEFINITIONS, stack: STACK, tags: TAGS, outputRoot: "results/" },
    batch: batch.batch,
    submitBatch: batch.batch,
    commands: batch.commands,
    log,
    now: batch.clock.now,
    sleep: batch.sleep,
  });
  const handler = createTriggerHandler({
    batch: { submitJob: (input: SubmitJobCommandInput) => batch.batch.send(new SubmitJobCommand(input)) },
    idempotency,
    config: { target: { jobQueue: QUEUE, jobDefinition: DEFINITION, stack: STACK, tags: TAGS }, bucket: BUCKET, filter: KEY_FILTER },
    inline,
    now: batch.clock.now,
    log,
  });
  return { handler, idempotency, log };
}

const event = () => s3Event(record("incoming/data.csv", { versionId: "v1", size: 2048, eTag: "etag-1" }));
const runIdOf = () => computeRunId({ bucket: BUCKET, key: KEY, versionId: "v1" });
const planFor = async (workflow: WorkflowSpec = defaultWorkflow()) =>
  planWorkflow(workflow, { runId: await runIdOf(), input: OBJECT, jobQueue: PROCESS_QUEUE, jobDefinitions: DEFINITIONS, stack: STACK, tags: TAGS, outputRoot: "results/" });

/** A chain of `n` steps, validated as the stack validates its workflow: one SubmitJob call each. */
const chainOf = (n: number): WorkflowSpec =>
  parseWorkflowSpec({ steps: Array.from({ length: n }, (_, i) => ({ name: `s${i}`, jobDefinition: "process", ...(i > 0 ? { dependsOn: [`s${i - 1}`] } : {}) })) });

describe("orchestrator.mode inline: the trigger submits the run's DAG itself", () => {
  it("submits exactly the orchestrator's plan (names, queue, tags, parameters), dependencies as Batch's ids, and no start job", async () => {
    const model = batch.fakeBatch();
    const { handler, log } = inlineHandler("inline");

    const result = (await handler(event(), context)) as TriggerResult;

    const plan = await planFor();
    const sent = batch.submitted();
    expect(sent.map((r) => r.jobQueue)).toEqual(plan.jobs.map(() => PROCESS_QUEUE));
    expect(sent.map(({ dependsOn: _, ...r }) => r)).toEqual(plan.jobs.map((j) => j.request));
    const idOf = new Map(model.jobs.map((j) => [j.jobName, j.jobId]));
    const nameOf = new Map(plan.jobs.map((j) => [j.id, j.request.jobName]));
    expect(sent.map((r) => r.dependsOn ?? [])).toEqual(plan.jobs.map((j) => j.dependsOn.map(({ id, ...d }) => ({ ...d, jobId: idOf.get(nameOf.get(id)!) }))));
    expect(sent.every((r) => r.tags?.[TAG_KEYS.stack] === STACK && r.tags?.project === "atlas")).toBe(true);
    expect(sent.some((r) => r.jobName!.startsWith("start-"))).toBe(false);

    const runId = await runIdOf();
    expect(result.jobs).toEqual([
      { status: "submitted", runId, orchestrator: "inline", jobs: plan.jobs.length, jobId: idOf.get(plan.jobs[0]!.request.jobName), jobName: plan.jobs[0]!.request.jobName, bucket: BUCKET, key: KEY, versionId: "v1" },
    ]);
    expect(log.lines.filter((l) => l.message === "run's DAG submitted")).toHaveLength(1);
  });

  it("a duplicate delivery finds the claim's stored result and submits nothing", async () => {
    batch.fakeBatch();
    const { handler } = inlineHandler("inline");
    await handler(event(), context);
    const calls = batch.batchMock.calls().length;

    const again = (await handler(event(), context)) as TriggerResult;

    expect(batch.batchMock.calls()).toHaveLength(calls);
    expect(again.jobs.map((j) => j.status)).toEqual(["duplicate"]);
  });

  it("with the claim's record gone (expired, or lost with a crashed invocation), finds the complete DAG on Batch and submits nothing", async () => {
    batch.fakeBatch();
    await inlineHandler("inline").handler(event(), context);
    const submitted = batch.submitted().length;

    const again = (await inlineHandler("inline").handler(event(), context)) as TriggerResult;

    expect(batch.submitted()).toHaveLength(submitted);
    expect(again.jobs.map((j) => [j.status, j.orchestrator])).toEqual([["duplicate", "inline"]]);
  });

  it("replaces a partial DAG an earlier invocation left (it died mid-DAG): terminates it, then submits the whole plan", async () => {
    const model = batch.fakeBatch();
    const plan = await planFor();
    model.add({ jobId: "old-root", jobName: plan.jobs[0]!.request.jobName, jobQueue: PROCESS_QUEUE, status: "RUNNABLE" });

    await inlineHandler("inline").handler(event(), context);

    expect(batch.terminated().map((t) => t.jobId)).toEqual(["old-root"]);
    expect(batch.submitted().map((r) => r.jobName)).toEqual(plan.jobs.map((j) => j.request.jobName));
  });

  it("fails the record when Batch throttles past the invocation's budget: what it submitted is terminated, nothing is remembered, so the retry runs it again", async () => {
    batch.fakeBatch();
    let accepted = 0;
    // The root is accepted, then every SubmitJob is throttled.
    batch.batchMock.on(SubmitJobCommand).callsFake(async (input) => {
      if (accepted++ === 0) return { jobId: "root-id", jobName: input.jobName, jobArn: "arn:aws:batch:eu-west-1:123456789012:job/root-id" };
      throw tooManyRequests();
    });
    const { handler, idempotency } = inlineHandler("inline");
    const started = batch.clock.now();

    const failure = await handler(event(), context).catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(TriggerRecordsFailedError);
    expect((failure as Error).message).toMatch(/did not fit the invocation's budget/);
    expect(batch.terminated().map((t) => t.jobId)).toEqual(["root-id"]);
    expect(idempotency.store.size).toBe(0);
    // It stopped backing off before the budget's end, leaving the reserve to terminate in.
    expect(batch.clock.now() - started).toBeLessThanOrEqual(context.getRemainingTimeInMillis() - INLINE_CLEANUP_RESERVE_MS);
  });

  it("names the message of an SQS batch whose DAG Batch refused, after undoing its part, and submits the others", async () => {
    batch.fakeBatch();
    let n = 0;
    // Batch refuses every job of the run of incoming/bad.csv (a client error: no retry), accepts the others'.
    batch.batchMock.on(SubmitJobCommand).callsFake(async (input) => {
      if (input.tags?.[TAG_KEYS.key] === "incoming/bad.csv") throw clientError();
      n++;
      return { jobId: `id-${n}`, jobName: input.jobName, jobArn: `arn:aws:batch:eu-west-1:123456789012:job/id-${n}` };
    });
    const { handler, idempotency } = inlineHandler("inline");
    const good = s3Event(record("incoming/good.csv", { versionId: "v1", size: 10 }));
    const bad = s3Event(record("incoming/bad.csv", { versionId: "v1", size: 10 }));

    const result = (await handler(sqsBatch(good, bad), context)) as unknown as SqsBatchResult;

    expect(result.batchItemFailures).toEqual([{ itemIdentifier: "m-1" }]);
    expect(batch.submitted().filter((r) => r.tags?.[TAG_KEYS.key] === "incoming/good.csv")).toHaveLength((await planFor()).jobs.length);
    expect(idempotency.store.size).toBe(1);
  });
});

describe("orchestrator.mode auto: inline up to AUTO_INLINE_MAX_SUBMIT_JOBS SubmitJob calls, else a start job", () => {
  it.each([
    [AUTO_INLINE_MAX_SUBMIT_JOBS, "inline"],
    [AUTO_INLINE_MAX_SUBMIT_JOBS + 1, "start job"],
  ])("a plan of %i SubmitJob calls: %s", async (calls, expected) => {
    batch.fakeBatch();
    expect((await planFor(chainOf(calls))).jobs).toHaveLength(calls);
    const { handler } = inlineHandler("auto", chainOf(calls));

    const result = (await handler(event(), context)) as TriggerResult;

    const names = batch.submitted().map((r) => r.jobName!);
    if (expected === "inline") {
      expect(names).toHaveLength(calls);
      expect(result.jobs[0]!.orchestrator).toBe("inline");
    } else {
      expect(names).toEqual([expect.stringMatching(/^start-/)]);
      expect(batch.submitted()[0]!.jobQueue).toBe(QUEUE);
      expect(result.jobs[0]!.orchestrator).toBeUndefined();
    }
  });
});
