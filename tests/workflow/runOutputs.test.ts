/**
 * What the planner tells each task about where it writes and which bytes it reads: every run has its own
 * output prefix (`PIPELINE_OUTPUT_PREFIX` = `<trigger.outputPrefix><runId>/`), chunked steps give each task
 * its byte range (`PIPELINE_CHUNK_BYTES`), and a step may override what SubmitJob lets a submission
 * override (SubmitJob API reference: `containerOverrides.resourceRequirements`, `timeout`).
 */
import { describe, expect, it } from "vitest";
import type { PlannedJob } from "../../workflow/planner";
import { planWorkflow } from "../../workflow/planner";
import { defaultWorkflow, parseWorkflowSpec } from "../../workflow/spec";
import { readInputs } from "../../jobs/inputs";
import { computeRunId } from "../../contract/run";
import { chunkBytesOf } from "../../contract";
import { containerOverridesLength } from "../../workflow/requestLimits";
import { context, INPUT, startJobEnv } from "../jobs/fixtures";

const env = (job: PlannedJob) => Object.fromEntries((job.request.containerOverrides?.environment ?? []).map((e) => [e.name!, e.value!]));
const ROOT = "results/";

describe("each run writes under its own prefix", () => {
  it("sets PIPELINE_OUTPUT_PREFIX (and Ref::outputPrefix) to <outputRoot><runId>/ on every task", () => {
    const plan = planWorkflow(defaultWorkflow(3), context({ outputRoot: ROOT }));
    for (const job of plan.jobs.filter((j) => j.kind === "task")) {
      expect(env(job).PIPELINE_OUTPUT_PREFIX).toBe(`results/${plan.runId}/`);
      expect(job.request.parameters?.outputPrefix).toBe(`results/${plan.runId}/`);
    }
  });

  it("two objects, two versions of one key and an unversioned overwrite never share an output key", async () => {
    const versions = [
      { bucket: "b", key: "incoming/a.csv", versionId: "v1" },
      { bucket: "b", key: "incoming/a.csv", versionId: "v2" },
      { bucket: "b", key: "incoming/b.csv", versionId: "v1" },
      { bucket: "b", key: "incoming/c.csv", sequencer: "0055AED6DCD90281E5" },
      { bucket: "b", key: "incoming/c.csv", sequencer: "0055AED6DCD90281E6" },
    ];
    const prefixes = await Promise.all(
      versions.map(async (v) => {
        const runId = await computeRunId(v);
        const plan = planWorkflow(defaultWorkflow(2), context({ runId, input: { ...INPUT, key: v.key }, outputRoot: ROOT }));
        return [...new Set(plan.jobs.filter((j) => j.kind === "task").map((j) => env(j).PIPELINE_OUTPUT_PREFIX))];
      }),
    );
    // One prefix per run, and no run's prefix is another's or inside it: a task's `part-0` can never collide.
    expect(prefixes.every((p) => p.length === 1)).toBe(true);
    const all = prefixes.map((p) => p[0]!);
    expect(new Set(all).size).toBe(versions.length);
    for (const a of all) for (const b of all) if (a !== b) expect(b.startsWith(a)).toBe(false);
  });

  it("the start job reads the root from PIPELINE_OUTPUT_ROOT; without it (a start job of an older deploy) the planner sets no prefix", () => {
    expect(readInputs(startJobEnv({ PIPELINE_OUTPUT_ROOT: ROOT })).outputRoot).toBe(ROOT);
    const old = readInputs(startJobEnv());
    expect(old.outputRoot).toBeUndefined();
    const plan = planWorkflow(old.workflow, context());
    expect(plan.jobs.every((j) => env(j).PIPELINE_OUTPUT_PREFIX === undefined)).toBe(true);
  });

  it("refuses a root that is not a key prefix", () => {
    expect(() => readInputs(startJobEnv({ PIPELINE_OUTPUT_ROOT: "/results/" }))).toThrow("PIPELINE_OUTPUT_ROOT must be an S3 key prefix");
  });
});

describe("chunked input: every task can compute its byte range", () => {
  const chunked = (width: Record<string, number>) =>
    parseWorkflowSpec({ steps: [{ name: "stats", jobDefinition: "process", width }] });
  /** The byte ranges the tasks compute from their environment, as docs/writing-jobs.md says. */
  function ranges(width: Record<string, number>, sizeBytes: number): [number, number][] {
    const plan = planWorkflow(chunked(width), context({ input: { ...INPUT, sizeBytes } }));
    return plan.jobs.flatMap((job) => {
      const e = env(job);
      const chunk = Number(e.PIPELINE_CHUNK_BYTES);
      const size = Number(e.PIPELINE_INPUT_SIZE);
      return Array.from({ length: job.taskCount }, (_, arrayIndex): [number, number] => {
        const i = Number(e.PIPELINE_ARRAY_OFFSET) + (job.taskCount > 1 ? arrayIndex : 0);
        return [Math.min(i * chunk, size), Math.min((i + 1) * chunk, size)];
      });
    });
  }
  /** Ranges in task order tile [0, size) exactly: no byte read twice, none left out. */
  function expectTiling(r: [number, number][], size: number) {
    let next = 0;
    for (const [start, end] of r) {
      expect(start).toBe(Math.min(next, size));
      next = end;
    }
    expect(next).toBe(size);
  }

  it.each([
    ["an exact multiple", { perChunkBytes: 100 }, 1000, 10],
    ["one byte past a multiple: the last task gets 1 byte", { perChunkBytes: 100 }, 1001, 11],
    ["a zero-byte object: one task, an empty range", { perChunkBytes: 100 }, 0, 1],
    ["width raised by min: the extra tasks get empty ranges", { perChunkBytes: 100, min: 5 }, 250, 5],
    ["width capped by max: each task covers more than perChunkBytes", { perChunkBytes: 100, max: 3 }, 1000, 3],
    ["wider than one array job (10,001 tasks in two arrays)", { perChunkBytes: 1 }, 10_001, 10_001],
  ])("%s", (_, width, size, tasks) => {
    const r = ranges(width, size);
    expect(r).toHaveLength(tasks);
    expectTiling(r, size);
  });

  it("PIPELINE_CHUNK_BYTES is perChunkBytes unless max capped the width (chunkBytesOf)", () => {
    expect(chunkBytesOf(100, 1000, 10)).toBe(100);
    expect(chunkBytesOf(100, 1000, 3)).toBe(334);
    expect(chunkBytesOf(100, 0, 1)).toBe(100);
  });

  it("fixed-width steps get no chunk size (they do not split the input)", () => {
    const plan = planWorkflow(defaultWorkflow(3), context());
    expect(plan.jobs.every((j) => env(j).PIPELINE_CHUNK_BYTES === undefined)).toBe(true);
  });
});

describe("a step overrides what a submission may override", () => {
  it("vcpus, memoryMiB and gpus as resourceRequirements, timeoutSeconds as the job's timeout", () => {
    const spec = parseWorkflowSpec({ steps: [{ name: "train", jobDefinition: "process", vcpus: 8, memoryMiB: 30_720, gpus: 1, timeoutSeconds: 7200 }] });
    const [job] = planWorkflow(spec, context()).jobs;
    expect(job!.request.containerOverrides?.resourceRequirements).toEqual([
      { type: "VCPU", value: "8" },
      { type: "MEMORY", value: "30720" },
      { type: "GPU", value: "1" },
    ]);
    expect(job!.request.timeout).toEqual({ attemptDurationSeconds: 7200 });
  });

  it("a step that overrides nothing sends neither (the definition's values apply)", () => {
    const [job] = planWorkflow(parseWorkflowSpec({ steps: [{ name: "s", jobDefinition: "process" }] }), context()).jobs;
    expect(job!.request.containerOverrides).not.toHaveProperty("resourceRequirements");
    expect(job!.request).not.toHaveProperty("timeout");
  });

  it.each([
    [{ vcpus: 0 }, "`vcpus` must be greater than 0"],
    [{ memoryMiB: 3 }, "`memoryMiB` must be at least 4 (Batch's minimum)"],
    [{ gpus: 0 }, "`gpus` must be at least 1"],
    [{ timeoutSeconds: 59 }, "`timeoutSeconds` must be at least 60 (Batch's minimum)"],
  ])("refuses %j: %s", (override, message) => {
    expect(() => parseWorkflowSpec({ steps: [{ name: "s", jobDefinition: "process", ...override }] })).toThrow(message);
  });

  it("accepts the edges: 60 s, 4 MiB, 1 GPU", () => {
    expect(() => parseWorkflowSpec({ steps: [{ name: "s", jobDefinition: "process", timeoutSeconds: 60, memoryMiB: 4, gpus: 1 }] })).not.toThrow();
  });
});

describe("the overrides limit counts a key's `$` characters as they are", () => {
  it("measures a command with Ref::key substituted literally, `$&` and `$$` included", () => {
    const key = "$$".repeat(500);
    const request = { containerOverrides: { command: ["echo", "Ref::key"] }, parameters: { key } };
    // String.replaceAll would read `$$` as one `$`, counting 500 bytes fewer than Batch will send.
    expect(containerOverridesLength(request)).toBe(Buffer.byteLength(JSON.stringify({ command: ["echo", key] })));
  });
});
