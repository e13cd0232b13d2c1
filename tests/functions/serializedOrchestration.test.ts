/**
 * Proves that the orchestrator's planning and submission can run inside the trigger Lambda: a factory that
 * closes over `planWorkflow` and `submitPlan` (serializedOrchestrationProbe.ts) compiled by tsc (not
 * vitest's transform) and serialized by Pulumi's closure serializer as `aws.lambda.CallbackFunction` does
 * (scripts/lambda-package.cjs), then loaded in a fresh Node process that can `require` only
 * `@aws-sdk/client-batch`, and run against the local AWS-compatible endpoint (Batch answered by the
 * Batch model).
 */
import { mkdirSync, readFileSync, realpathSync, symlinkSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { planWorkflow, type PlanContext } from "../../workflow/planner";
import { defaultWorkflow } from "../../workflow/spec";
import type { Invocation } from "../e2e/lambda";
import { lastJsonLine, runNode } from "../e2e/node";
import { awsEnv, ROOT, runScript, setUpE2e } from "../e2e/setup";
import { context } from "../jobs/fixtures";
import type { PlanAndSubmitEvent } from "./serializedOrchestrationProbe";

const e2e = setUpE2e("orchestration-", async (dir) => {
  const summary: { indexBytes: number; packages: unknown[]; zippedBytes: number } = lastJsonLine(
    await runScript("scripts/lambda-package.cjs", [dir, "tests/functions/serializedOrchestrationProbe.ts#planAndSubmitFactory"], { cwd: ROOT }),
  );
  // The one package the serialized code may load, as the Lambda runtime has it; its own dependencies
  // resolve from its real folder, anything else the code required would not be found.
  mkdirSync(path.join(dir, "node_modules", "@aws-sdk"), { recursive: true });
  symlinkSync(realpathSync(path.join(ROOT, "node_modules", "@aws-sdk", "client-batch")), path.join(dir, "node_modules", "@aws-sdk", "client-batch"), "dir");
  return summary;
});

/** Loads `__index.js` in a fresh process (scripts/lambda-invoke.cjs) and invokes its handler with `event`. */
async function invoke(event: PlanAndSubmitEvent): Promise<Invocation> {
  const out = await runNode([path.join(ROOT, "scripts", "lambda-invoke.cjs"), e2e.dir], { cwd: e2e.dir, input: JSON.stringify(event), env: awsEnv(e2e.stub.url) });
  if (out.code !== 0) throw new Error(`lambda-invoke exited ${out.code}: ${out.stderr}`);
  return lastJsonLine(out.stdout);
}

const WORKFLOW = defaultWorkflow();
const QUEUE = "arn:aws:batch:eu-west-1:123456789012:job-queue/low";
const runContext = (runId: string): PlanContext => context({ runId, jobQueue: QUEUE, tags: { environment: "test" } });
const submittedOf = (runId: string) => e2e.stub.submitted.filter((s) => String(s.jobName).startsWith(runId));
const operations = () => e2e.stub.calls.map((c) => c.operation);

describe("planWorkflow and submitPlan, serialized by value", () => {
  it("serialize without zod or vitest's transform, and load only @aws-sdk/client-batch, at run time", () => {
    const code = readFileSync(path.join(e2e.dir, "__index.js"), "utf8");
    expect([...code.matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1])).toEqual(["@aws-sdk/client-batch"]);
    expect(code).not.toContain('require("zod")');
    expect(code).not.toMatch(/__vi_import|__vite_ssr/);
    expect(e2e.built.packages).toEqual([]);
    expect(e2e.built.zippedBytes).toBeLessThan(100 * 1024);
  });

  it("plan the default workflow and submit it: the requests the planner makes in-process, with Batch's ids in dependsOn and the run's tags", async () => {
    const runId = "aaaaaaaaaaaaaaaaaaaaaaaa";
    const out = await invoke({ workflow: WORKFLOW, context: runContext(runId) });

    expect(out.error).toBeUndefined();
    expect(out.result.outcome).toBe("submitted");
    const plan = planWorkflow(WORKFLOW, runContext(runId));
    const ids = new Map<string, string>(out.result.jobs.map((j: { id: string; jobId: string }) => [j.id, j.jobId]));
    const expected = plan.jobs.map((job) => ({ ...job.request, ...(job.dependsOn.length > 0 ? { dependsOn: job.dependsOn.map((d) => ({ jobId: ids.get(d.id) })) } : {}) }));
    expect(submittedOf(runId)).toEqual(expected);
    expect(submittedOf(runId).map((s) => [s.jobName, s.dependsOn, s.arrayProperties?.size])).toEqual([
      [`${runId}-prepare`, undefined, undefined],
      [`${runId}-process`, [{ jobId: ids.get("prepare") }], 3],
      [`${runId}-merge`, [{ jobId: ids.get("process") }], undefined],
    ]);
    for (const body of submittedOf(runId)) {
      expect(body.tags).toMatchObject({ environment: "test", "pipeline:run-id": runId, "pipeline:stack": "pipeline-test", "pipeline:step": body.jobName.slice(runId.length + 1) });
    }
  });

  it("find the DAG an earlier invocation submitted (ListJobs) and submit nothing", async () => {
    const runId = "aaaaaaaaaaaaaaaaaaaaaaaa";
    const before = e2e.stub.submitted.length;
    const out = await invoke({ workflow: WORKFLOW, context: runContext(runId) });
    expect(out.result.outcome).toBe("existing");
    expect(out.result.jobs.map((j: { jobName: string }) => j.jobName)).toEqual(["prepare", "process", "merge"].map((id) => `${runId}-${id}`));
    expect(e2e.stub.submitted.length).toBe(before);
  });

  it("terminate an earlier attempt's partial DAG (TerminateJob), wait until it has stopped (DescribeJobs), then submit the whole plan", async () => {
    const runId = "bbbbbbbbbbbbbbbbbbbbbbbb";
    // Not started yet, so TerminateJob cancels it at once (the stub's clock does not move).
    e2e.stub.addJob({ jobId: "earlier-prepare", jobName: `${runId}-prepare`, jobQueue: QUEUE, createdAt: 1, status: "RUNNABLE" });
    const from = e2e.stub.calls.length;
    const out = await invoke({ workflow: WORKFLOW, context: runContext(runId) });
    expect(out.error).toBeUndefined();
    expect(out.result).toMatchObject({ outcome: "submitted", terminated: ["earlier-prepare"] });
    expect(operations().slice(from)).toEqual(["ListJobs", "TerminateJob", "DescribeJobs", "SubmitJob", "SubmitJob", "SubmitJob"]);
    expect(submittedOf(runId).map((s) => s.jobName)).toEqual(["prepare", "process", "merge"].map((id) => `${runId}-${id}`));
  });

  it("fail with the submitter's own error, message and all, when Batch refuses a SubmitJob", async () => {
    const runId = "cccccccccccccccccccccccc";
    e2e.stub.rejectNext(1, "Job definition process-def is INACTIVE");
    const out = await invoke({ workflow: WORKFLOW, context: runContext(runId) });
    expect(out.ok).toBe(false);
    expect(out.error).toEqual({
      name: "SubmissionError",
      message: `run ${runId}: submission failed after 0 of 3 jobs (ClientException: Job definition process-def is INACTIVE); terminated 0`,
    });
  });
});
