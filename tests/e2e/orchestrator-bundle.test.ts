/**
 * The start job's container entry point as the image runs it: jobs/main.ts bundled by jobs/build.mjs
 * (what jobs/Dockerfile does), started in a fresh Node process with the environment the trigger and
 * the start job definition give it, against a local AWS-compatible endpoint. Docker is not available
 * here, so this is as close to the image as the tests get.
 */
import { statSync } from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { RUN_ID, STACK, startJobEnv } from "../jobs/fixtures";
import { runNode } from "./node";
import { awsEnv, runScript, setUpE2e } from "./setup";

const START_NAME = `start-${RUN_ID}-data-file`;
const START_QUEUE = "arn:aws:batch:eu-west-1:123456789012:job-queue/high";
const PROCESS_QUEUE = "arn:aws:batch:eu-west-1:123456789012:job-queue/low";

const e2e = setUpE2e("orchestrator-", async (dir) => {
  const bundle = path.join(dir, "orchestrator.js");
  await runScript("jobs/build.mjs", [], { env: { ...process.env, ORCHESTRATOR_OUTFILE: bundle } });
  return bundle;
});

beforeAll(() => {
  // The start job the orchestrator runs as, as Batch knows it.
  e2e.stub.addJob({ jobId: "start-job-id", jobName: START_NAME, jobQueue: START_QUEUE, createdAt: 1, status: "RUNNING" });
});

const env = () => ({
  ...startJobEnv({
    PIPELINE_INPUT_VERSION_ID: "v1",
    PIPELINE_INPUT_SIZE: "4096",
    PIPELINE_PROCESS_QUEUE: PROCESS_QUEUE,
    PIPELINE_JOB_TAGS: JSON.stringify({ environment: "test" }),
  }),
  ...awsEnv(e2e.stub.url),
  AWS_BATCH_JOB_ID: "start-job-id",
  AWS_BATCH_JOB_ATTEMPT: "1",
});

const orchestrator = (args: string[], extra: Record<string, string> = {}) => runNode([e2e.built, ...args], { env: { ...env(), ...extra } });

describe("the bundled orchestrator (the image's entry point)", () => {
  it("is one self-contained file", () => {
    expect(statSync(e2e.built).size).toBeGreaterThan(100_000);
    expect(statSync(e2e.built).size).toBeLessThan(5 * 1024 * 1024);
  });

  it("--dry-run prints the plan without calling AWS", async () => {
    const { code, stdout } = await orchestrator(["--dry-run", "--format", "json"]);
    expect(code).toBe(0);
    const plan = JSON.parse(stdout);
    expect(plan.jobs.map((j: any) => [j.id, j.request.arrayProperties?.size ?? 1])).toEqual([
      ["prepare", 1],
      ["process", 3],
      ["merge", 1],
    ]);
    expect(e2e.stub.calls).toHaveLength(0);
  });

  it("submits prepare → array of 3 → merge with real dependency ids, then finds the same DAG on a retried attempt", async () => {
    const first = await orchestrator([]);
    expect(first.code).toBe(0);
    expect(e2e.stub.submitted.map((s) => s.jobName)).toEqual([`${RUN_ID}-prepare`, `${RUN_ID}-process`, `${RUN_ID}-merge`]);
    const [prepare, process_, merge] = e2e.stub.submitted;
    expect(prepare.dependsOn).toBeUndefined();
    expect(process_.arrayProperties).toEqual({ size: 3 });
    const ids = JSON.parse(first.stdout).jobs.map((j: any) => j.jobId);
    expect(process_.dependsOn).toEqual([{ jobId: ids[0] }]);
    expect(merge.dependsOn).toEqual([{ jobId: ids[1] }]);
    expect(merge.tags).toMatchObject({ environment: "test", "pipeline:run-id": RUN_ID, "pipeline:step": "merge" });

    // Batch retries the start job: the complete DAG exists, so nothing is submitted twice.
    const retried = await orchestrator([], { AWS_BATCH_JOB_ATTEMPT: "2" });
    expect(retried.code).toBe(0);
    expect(JSON.parse(retried.stdout).outcome).toBe("existing");
    expect(e2e.stub.submitted).toHaveLength(3);
  });

  it("a second start job of the same run (a lost SubmitJob response) submits nothing", async () => {
    const before = e2e.stub.submitted.length;
    e2e.stub.addJob({ jobId: "start-job-duplicate", jobName: START_NAME, jobQueue: START_QUEUE, createdAt: 2, status: "RUNNING" });
    const duplicate = await orchestrator([], { AWS_BATCH_JOB_ID: "start-job-duplicate" });
    expect(duplicate.code).toBe(0);
    expect(JSON.parse(duplicate.stdout)).toEqual({ runId: RUN_ID, outcome: "duplicate", owner: "start-job-id" });
    expect(e2e.stub.submitted).toHaveLength(before);
    expect(e2e.stub.calls.filter((c) => c.operation === "ListJobs").at(-1)!.body).toEqual({
      jobQueue: START_QUEUE,
      filters: [{ name: "JOB_NAME", values: [START_NAME] }],
    });
  });

  // SubmitJob has no client token: a 500 can follow the job's creation. The SDK would retry it (a 500 is
  // "transient" to it) and so create the job twice; the bundled client does not retry SubmitJob, and the
  // orchestrator finds the job by its exact name instead.
  it("after an HTTP 500 from a SubmitJob that created the job, uses that job instead of submitting it again", async () => {
    const runId = "fedcba9876543210fedcba98";
    const startName = `start-${runId}-other`;
    e2e.stub.addJob({ jobId: "start-job-ambiguous", jobName: startName, jobQueue: START_QUEUE, createdAt: 3, status: "RUNNING" });
    const calls = e2e.stub.calls.length;
    e2e.stub.failAfterCreatingNext(1);

    const { code, stdout, stderr } = await orchestrator([], { PIPELINE_RUN_ID: runId, AWS_BATCH_JOB_ID: "start-job-ambiguous" });

    expect(code, stderr).toBe(0);
    expect(JSON.parse(stdout).outcome).toBe("submitted");
    const ours = e2e.stub.calls.slice(calls);
    // One SubmitJob per planned name, the failed one included: nothing was retried blindly.
    expect(ours.filter((c) => c.operation === "SubmitJob").map((c) => c.body.jobName)).toEqual(["prepare", "process", "merge"].map((s) => `${runId}-${s}`));
    for (const step of ["prepare", "process", "merge"]) expect(e2e.stub.jobs.filter((j) => j.jobName === `${runId}-${step}`), step).toHaveLength(1);
    expect(ours).toContainEqual(expect.objectContaining({ operation: "ListJobs", body: { jobQueue: PROCESS_QUEUE, filters: [{ name: "JOB_NAME", values: [`${runId}-prepare`] }] } }));
    const [prepare] = e2e.stub.jobs.filter((j) => j.jobName === `${runId}-prepare`);
    expect(JSON.parse(stdout).jobs[0].jobId).toBe(prepare!.jobId);
    expect(e2e.stub.submitted.find((s) => s.jobName === `${runId}-process`).dependsOn).toEqual([{ jobId: prepare!.jobId }]);
    expect(e2e.stub.submitted.find((s) => s.jobName === `${runId}-merge`).tags).toMatchObject({ "pipeline:stack": STACK });
  });

  it("exits 2 naming the variable when an input is bad", async () => {
    const { code, stderr } = await orchestrator(["--dry-run"], { PIPELINE_INPUT_SIZE: "big" });
    expect(code).toBe(2);
    expect(stderr).toContain("PIPELINE_INPUT_SIZE");
  });
});
