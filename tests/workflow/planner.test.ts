import { describe, expect, it } from "vitest";
import { BATCH_INJECTED_ENVIRONMENT_WORST_CASE, CONTAINER_OVERRIDES_HEADROOM_CHARS, JOB_NAME_PATTERN, MAX_CONTAINER_OVERRIDES_CHARS, sanitizeTagValue, TAG_KEYS } from "../../contract";
import {
  BARRIER_COMMAND,
  PlanError,
  planWorkflow,
  splitIntoChunks,
  type Plan,
  type PlannedJob,
} from "../../workflow/planner";
import { containerOverridesLength, worstCaseInput } from "../../workflow/requestLimits";
import { defaultWorkflow, parseWorkflowSpec } from "../../workflow/spec";
import { context, INPUT, RUN_ID, STACK } from "../jobs/fixtures";

/** Invariants every plan must hold, whatever the workflow. */
function expectValidPlan(plan: Plan): void {
  const seen = new Map<string, PlannedJob>();
  for (const job of plan.jobs) {
    const { request } = job;
    expect(request.jobName).toMatch(JOB_NAME_PATTERN);
    expect(request.jobName).toBe(`${RUN_ID}-${job.id}`);
    expect(seen.has(job.id), `duplicate id ${job.id}`).toBe(false);
    expect(job.dependsOn.length).toBeLessThanOrEqual(20);
    for (const dep of job.dependsOn) {
      const parent = seen.get(dep.id);
      expect(parent, `${job.id} depends on ${dep.id}, which is not earlier in the plan`).toBeDefined();
      if (dep.type === "N_TO_N") {
        expect(request.arrayProperties?.size).toBeGreaterThan(1);
        expect(parent!.request.arrayProperties?.size).toBe(request.arrayProperties?.size);
      }
    }
    const size = request.arrayProperties?.size;
    if (size !== undefined) {
      expect(size).toBeGreaterThanOrEqual(2);
      expect(size).toBeLessThanOrEqual(10_000);
    }
    expect(request.tags).toMatchObject({ [TAG_KEYS.runId]: RUN_ID, [TAG_KEYS.step]: job.step, [TAG_KEYS.bucket]: INPUT.bucket, [TAG_KEYS.stack]: STACK });
    expect(containerOverridesLength(request) + CONTAINER_OVERRIDES_HEADROOM_CHARS).toBeLessThanOrEqual(MAX_CONTAINER_OVERRIDES_CHARS);
    expect(request.propagateTags).toBe(true);
    expect(request.jobQueue).toBe("process-queue");
    seen.set(job.id, job);
  }
}

const env = (job: PlannedJob) => Object.fromEntries((job.request.containerOverrides?.environment ?? []).map((e) => [e.name, e.value]));
const byId = (plan: Plan, id: string) => plan.jobs.find((j) => j.id === id)!;

describe("planWorkflow: fan-out/fan-in (prepare → process × width → merge)", () => {
  it.each([
    // width, jobs, process chunk sizes, barriers, merge dependencies
    [1, 3, [1], 0, ["process"]],
    [2, 3, [2], 0, ["process"]],
    [20, 3, [20], 0, ["process"]],
    [21, 3, [21], 0, ["process"]],
    [10_000, 3, [10_000], 0, ["process"]],
    [10_001, 4, [5_001, 5_000], 0, ["process-p0", "process-p1"]],
    // 100 chunks into 20 slots: 5 barriers (the minimum, ceil(80 / 19)) take 85 chunks, 15 stay direct.
    [1_000_000, 107, Array(100).fill(10_000), 5, [...Array.from({ length: 5 }, (_, i) => `merge-b1-${i}`), ...Array.from({ length: 15 }, (_, i) => `process-p${85 + i}`)]],
  ])("width %i → %i SubmitJob calls", (width, jobCount, chunkSizes, barrierCount, mergeDeps) => {
    const plan = planWorkflow(defaultWorkflow(width), context());

    expectValidPlan(plan);
    expect(plan.jobs).toHaveLength(jobCount);
    expect(plan.taskCount).toBe(width + 2);
    const process = plan.jobs.filter((j) => j.step === "process");
    expect(process.map((j) => j.taskCount)).toEqual(chunkSizes);
    expect(process.map((j) => j.request.arrayProperties?.size ?? 1)).toEqual(chunkSizes);
    // Offsets are the running sum of the chunk sizes, so task indexes cover 0..width-1 exactly once.
    const offsets = chunkSizes.map((_, k) => chunkSizes.slice(0, k).reduce((a, b) => a + b, 0));
    expect(process.map((j) => Number(env(j).PIPELINE_ARRAY_OFFSET))).toEqual(offsets);
    expect(process.every((j) => env(j).PIPELINE_TASK_COUNT === String(width))).toBe(true);
    expect(process.every((j) => j.dependsOn.length === 1 && j.dependsOn[0].id === "prepare")).toBe(true);
    expect(plan.jobs.filter((j) => j.kind === "barrier")).toHaveLength(barrierCount);
    expect(byId(plan, "merge").dependsOn.map((d) => d.id)).toEqual(mergeDeps);
    expect(plan.jobs[0].id).toBe("prepare");
    expect(plan.jobs.at(-1)!.id).toBe("merge");
  });

  // How fast (under 500 ms) is bench/orchestrator.ts's target, measured by `npm run bench`.
  it("plans a million tasks in fewer than 120 jobs", () => {
    const plan = planWorkflow(defaultWorkflow(1_000_000), context());
    expect(plan.jobs.length).toBeLessThan(120);
  });

  it("makes barrier jobs no-ops on the barrier job definition that cover every chunk once", () => {
    const plan = planWorkflow(defaultWorkflow(1_000_000), context());
    const barriers = plan.jobs.filter((j) => j.kind === "barrier");
    expect(barriers.every((b) => b.request.jobDefinition === "barrier-def" && b.request.arrayProperties === undefined)).toBe(true);
    expect(barriers[0].request.containerOverrides?.command).toEqual(BARRIER_COMMAND);
    // Every chunk reaches merge exactly once: through one barrier or directly.
    const barrierIds = new Set(barriers.map((b) => b.id));
    const leaves = [...barriers.flatMap((b) => b.dependsOn), ...byId(plan, "merge").dependsOn].map((d) => d.id).filter((id) => !barrierIds.has(id));
    expect(leaves).toEqual(plan.steps[1].jobIds);
    expect(barriers.every((b) => b.dependsOn.length >= 2 && b.dependsOn.length <= 20)).toBe(true);
  });

  it("sets the task environment, parameters and command of a step", () => {
    const plan = planWorkflow(defaultWorkflow(4), context());
    const process = byId(plan, "process");
    expect(process.request).toMatchObject({
      jobName: `${RUN_ID}-process`,
      jobDefinition: "process-def",
      arrayProperties: { size: 4 },
      parameters: { runId: RUN_ID, bucket: INPUT.bucket, key: INPUT.key, versionId: "v1", size: "1000", step: "process", taskCount: "4", arrayOffset: "0" },
    });
    // The default workflow's steps set no command: Batch runs the job definition's.
    expect(process.request.containerOverrides).not.toHaveProperty("command");
    expect(env(process)).toEqual({
      PIPELINE_RUN_ID: RUN_ID,
      PIPELINE_INPUT_BUCKET: INPUT.bucket,
      PIPELINE_INPUT_KEY: INPUT.key,
      PIPELINE_INPUT_VERSION_ID: "v1",
      PIPELINE_INPUT_SIZE: "1000",
      PIPELINE_INPUT_ETAG: "abc",
      PIPELINE_STEP: "process",
      PIPELINE_TASK_COUNT: "4",
      PIPELINE_ARRAY_OFFSET: "0",
    });
    expect(byId(plan, "prepare").request.arrayProperties).toBeUndefined();
  });

  it("is deterministic: the same inputs give the same plan (a retried start job relies on it)", () => {
    expect(planWorkflow(defaultWorkflow(25_000), context())).toEqual(planWorkflow(defaultWorkflow(25_000), context()));
  });
});

describe("planWorkflow: DAG shapes", () => {
  it("plans a diamond with the join after both branches", () => {
    const spec = parseWorkflowSpec({
      steps: [
        { name: "split", jobDefinition: "process" },
        { name: "left", jobDefinition: "process", dependsOn: ["split"], width: { fixed: 10 } },
        { name: "right", jobDefinition: "process", dependsOn: ["split"], width: { fixed: 30_000 } },
        { name: "join", jobDefinition: "process", dependsOn: ["left", "right"] },
      ],
    });
    const plan = planWorkflow(spec, context());
    expectValidPlan(plan);
    expect(plan.jobs.map((j) => j.id)).toEqual(["split", "left", "right-p0", "right-p1", "right-p2", "join"]);
    expect(byId(plan, "join").dependsOn.map((d) => d.id)).toEqual(["left", "right-p0", "right-p1", "right-p2"]);
  });

  it("plans several roots and orders steps by dependency, not by how they are written", () => {
    const spec = parseWorkflowSpec({
      steps: [
        { name: "report", jobDefinition: "process", dependsOn: ["a", "b"] },
        { name: "a", jobDefinition: "process", width: { fixed: 2 } },
        { name: "b", jobDefinition: "process" },
      ],
    });
    const plan = planWorkflow(spec, context());
    expectValidPlan(plan);
    expect(plan.jobs.map((j) => [j.id, j.dependsOn.map((d) => d.id)])).toEqual([
      ["a", []],
      ["b", []],
      ["report", ["a", "b"]],
    ]);
  });

  it.each([
    // The minimum is ceil((n - 20) / 19): each barrier turns up to 20 dependencies into 1.
    [20, 0, 20],
    [21, 1, 20], // one barrier over 2 of them
    [39, 1, 20],
    [40, 2, 20],
    [400, 20, 20],
    [401, 21, 20], // 20 full barriers + 1 direct is 21: a second level joins 2 of them
    [1_000, 52, 20], // 50 full barriers, then 2 more over 32 of those 50
  ])("joins %i independent steps with %i barrier jobs and %i direct dependencies", (roots, barriers, joinDeps) => {
    const spec = parseWorkflowSpec({
      steps: [
        ...Array.from({ length: roots }, (_, i) => ({ name: `r${i}`, jobDefinition: "process" })),
        { name: "join", jobDefinition: "process", dependsOn: Array.from({ length: roots }, (_, i) => `r${i}`) },
      ],
    });
    const plan = planWorkflow(spec, context());
    expectValidPlan(plan);
    expect(plan.jobs.filter((j) => j.kind === "barrier")).toHaveLength(barriers);
    expect(byId(plan, "join").dependsOn).toHaveLength(joinDeps);
    expect(barriers).toBe(Math.max(0, Math.ceil((roots - 20) / 19)));
    // Each root is waited on exactly once, and no barrier waits on a single job.
    const barrierJobs = plan.jobs.filter((j) => j.kind === "barrier");
    const ids = new Set(barrierJobs.map((b) => b.id));
    const leaves = [...barrierJobs.flatMap((b) => b.dependsOn), ...byId(plan, "join").dependsOn].map((d) => d.id).filter((id) => !ids.has(id));
    expect(leaves.sort()).toEqual(Array.from({ length: roots }, (_, i) => `r${i}`).sort());
    expect(barrierJobs.every((b) => b.dependsOn.length >= 2)).toBe(true);
  });

  it("pairs chunks N_TO_N between steps of equal width, also when they are split", () => {
    const spec = parseWorkflowSpec({
      steps: [
        { name: "extract", jobDefinition: "process", width: { fixed: 15_000 } },
        { name: "transform", jobDefinition: "process", width: { fixed: 15_000 }, dependsOn: [{ step: "extract", type: "N_TO_N" }] },
        { name: "single", jobDefinition: "process" },
        { name: "single2", jobDefinition: "process", dependsOn: [{ step: "single", type: "N_TO_N" }] },
      ],
    });
    const plan = planWorkflow(spec, context());
    expectValidPlan(plan);
    expect(byId(plan, "transform-p0").dependsOn).toEqual([{ id: "extract-p0", type: "N_TO_N" }]);
    expect(byId(plan, "transform-p1").dependsOn).toEqual([{ id: "extract-p1", type: "N_TO_N" }]);
    // Batch only accepts N_TO_N on arrays; between two plain jobs it is an ordinary dependency.
    expect(byId(plan, "single2").dependsOn).toEqual([{ id: "single" }]);
  });

  it("keeps N_TO_N edges direct and sends plain dependencies through barriers", () => {
    const spec = parseWorkflowSpec({
      steps: [
        { name: "wide", jobDefinition: "process", width: { fixed: 1_000_000 } },
        { name: "a", jobDefinition: "process", width: { fixed: 8 } },
        { name: "b", jobDefinition: "process", width: { fixed: 8 }, dependsOn: [{ step: "a", type: "N_TO_N" }, "wide"] },
      ],
    });
    const plan = planWorkflow(spec, context());
    expectValidPlan(plan);
    // 100 chunks into the 19 slots N_TO_N leaves: 5 barriers over 86 of them, 14 direct.
    expect(byId(plan, "b").dependsOn).toEqual([
      ...Array.from({ length: 5 }, (_, i) => ({ id: `b-b1-${i}` })),
      ...Array.from({ length: 14 }, (_, i) => ({ id: `wide-p${86 + i}` })),
      { id: "a", type: "N_TO_N" },
    ]);
  });

  it.each([
    [0, 1],
    [1, 1],
    [999, 1],
    [1_001, 2],
    [30_000_000, 30_000],
  ])("derives the width of a %i-byte object as %i tasks", (sizeBytes, width) => {
    const spec = parseWorkflowSpec({ steps: [{ name: "chunks", jobDefinition: "process", width: { perChunkBytes: 1_000 } }] });
    const plan = planWorkflow(spec, context({ input: { ...INPUT, sizeBytes } }));
    expectValidPlan(plan);
    expect(plan.steps[0].width).toBe(width);
    expect(plan.jobs.reduce((n, j) => n + j.taskCount, 0)).toBe(width);
  });
});

describe("planWorkflow: errors", () => {
  it("needs the barrier job definition when a step needs barriers", () => {
    const attempt = () => planWorkflow(defaultWorkflow(1_000_000), context({ jobDefinitions: { process: "process-def" } }));
    expect(attempt).toThrow(PlanError);
    expect(attempt).toThrow("step `merge` waits on more than 20 jobs, so it needs barrier jobs, but job definition key `barrier` is not in the job definitions map (known: process)");
  });

  it("names the step whose job definition key is missing", () => {
    expect(() => planWorkflow(defaultWorkflow(3, "other"), context())).toThrow("step `prepare` job definition key `other` is not in the job definitions map");
  });

  it("rejects a run id that is not 24 lowercase hex characters", () => {
    expect(() => planWorkflow(defaultWorkflow(3), context({ runId: "ABC" }))).toThrow(/runId `ABC` must match/);
  });

  it("rejects N_TO_N steps whose derived widths differ at plan time", () => {
    // Hand-built (not parsed) spec: the planner re-checks what the parser cannot know in advance.
    const spec = {
      steps: [
        { name: "a", jobDefinition: "process", dependsOn: [], width: { perChunkBytes: 10 } },
        { name: "b", jobDefinition: "process", dependsOn: [{ step: "a", type: "N_TO_N" as const }], width: { perChunkBytes: 20 } },
      ],
    };
    expect(() => planWorkflow(spec, context())).toThrow("step `b`: N_TO_N dependency on `a` needs equal widths, but they resolved to 50 and 100");
  });

  it("rejects requests over Batch's 30 KiB payload limit", () => {
    const spec = parseWorkflowSpec({ steps: [{ name: "big", jobDefinition: "process", environment: { BLOB: "x".repeat(31_000) } }] });
    expect(() => planWorkflow(spec, context())).toThrow(/job `big`: its SubmitJob request is about \d+ bytes, over Batch's 30720/);
  });
});

describe("tags", () => {
  it("sanitises characters AWS tags do not allow and keeps at most 256 characters", () => {
    expect(sanitizeTagValue("in/data file (1)+v=2@x.csv")).toBe("in/data file _1_+v=2@x.csv");
    expect(sanitizeTagValue("ключ/数据")).toBe("ключ/数据");
    const long = "😀".repeat(300);
    expect(Array.from(sanitizeTagValue(long))).toHaveLength(256);
    expect(sanitizeTagValue("a".repeat(300))).toHaveLength(256);
  });

  it("puts run, step, bucket, key and stack tags on every job, plus the caller's", () => {
    const key = `weird#key?${"k".repeat(400)}`;
    const plan = planWorkflow(defaultWorkflow(2), context({ input: { ...INPUT, key }, tags: { team: "data<eng>" } }));
    expect(plan.jobs[1].request.tags).toEqual({
      team: "data_eng_",
      [TAG_KEYS.runId]: RUN_ID,
      [TAG_KEYS.bucket]: INPUT.bucket,
      [TAG_KEYS.key]: `weird_key_${"k".repeat(246)}`,
      [TAG_KEYS.stack]: STACK,
      [TAG_KEYS.step]: "process",
    });
    // The exact key still reaches the task, untruncated.
    expect(env(plan.jobs[1]).PIPELINE_INPUT_KEY).toBe(key);
  });

  it("rejects reserved or oversized tag keys", () => {
    expect(() => planWorkflow(defaultWorkflow(2), context({ tags: { "aws:x": "1" } }))).toThrow(/tag key `aws:x`/);
  });

  it("tags every job, barriers included, with the stack's id, unchanged (IAM compares it exactly)", () => {
    const plan = planWorkflow(defaultWorkflow(1_000_000), context({ stack: "acme-prod 2" }));
    expect(plan.jobs.filter((j) => j.kind === "barrier").length).toBeGreaterThan(0);
    expect(plan.jobs.every((j) => j.request.tags![TAG_KEYS.stack] === "acme-prod 2")).toBe(true);
  });

  it.each([
    ["", "empty"],
    ["acme,prod", "a character tags do not allow"],
    ["s".repeat(257), "over 256 characters"],
  ])("rejects the stack id %j (%s): AWS tag values are 1 to 256 letters, digits, spaces and _ . : / = + - @", (stack) => {
    expect(() => planWorkflow(defaultWorkflow(2), context({ stack }))).toThrow(/^stack `.*` must be an AWS tag value: 1 to 256 letters/);
  });

  // Batch: at most 50 tags per job (with the job definition's when propagateTags is on); the pipeline uses 5.
  it("allows 45 tags of the caller's next to the pipeline's 5, not 46", () => {
    const tags = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`t${i}`, "v"]));
    expect(planWorkflow(defaultWorkflow(2), context({ tags: tags(45) })).jobs[0].request.tags).toHaveProperty(TAG_KEYS.stack, STACK);
    expect(() => planWorkflow(defaultWorkflow(2), context({ tags: tags(46) }))).toThrow("jobs can carry at most 50 tags, including the pipeline's 5; 51 given");
  });
});

describe("splitIntoChunks", () => {
  it.each([
    [1, [[0, 1]]],
    [10_000, [[0, 10_000]]],
    [10_001, [[0, 5_001], [5_001, 5_000]]],
    [20_001, [[0, 6_667], [6_667, 6_667], [13_334, 6_667]]],
  ])("splits %i tasks into near-equal chunks", (width, expected) => {
    expect(splitIntoChunks(width).map((c) => [c.offset, c.size])).toEqual(expected);
  });
});

// ECS RunTask refuses container overrides over 8,192 characters ("Container Overrides length must be at
// most 8192", ECS API reference `overrides`; Netflix/metaflow#977, ASFHyP3/hyp3#3041). SubmitJob accepts
// such a job and it FAILS at task start, so the planner refuses it, with room for what Batch adds.
describe("container overrides: ECS's 8,192-character limit", () => {
  const withPad = (pad: string) => parseWorkflowSpec({ steps: [{ name: "edge", jobDefinition: "process", command: ["run"], environment: { PAD: pad } }] });
  const measured = (plan: Plan) => containerOverridesLength(plan.jobs[0].request) + CONTAINER_OVERRIDES_HEADROOM_CHARS;
  const room = MAX_CONTAINER_OVERRIDES_CHARS - measured(planWorkflow(withPad(""), context()));

  it("derives the headroom from the longest values of the variables Batch injects", () => {
    const entries = BATCH_INJECTED_ENVIRONMENT_WORST_CASE.map((e) => JSON.stringify(e).length + 1); // + the joining comma
    expect(CONTAINER_OVERRIDES_HEADROOM_CHARS).toBe(entries.reduce((a, b) => a + b, 0));
    const byName = Object.fromEntries(BATCH_INJECTED_ENVIRONMENT_WORST_CASE.map((e) => [e.name, e.value]));
    expect(byName.AWS_BATCH_JOB_ID).toHaveLength(36 + 1 + 4);
    expect(byName.AWS_BATCH_JQ_NAME).toHaveLength(128);
    expect(byName.AWS_BATCH_CE_NAME).toHaveLength(128);
    expect(byName.AWS_BATCH_JOB_ATTEMPT).toBe("10");
  });

  it("plans a job exactly at the limit", () => {
    const plan = planWorkflow(withPad("x".repeat(room)), context());
    expect(measured(plan)).toBe(8192);
  });

  it("refuses a job one character past the limit, naming the step, the size and the limit", () => {
    const attempt = () => planWorkflow(withPad("x".repeat(room + 1)), context());
    expect(attempt).toThrow(PlanError);
    expect(attempt).toThrow(
      new RegExp(`^step \`edge\`, job \`edge\`: its container overrides are ${8193 - CONTAINER_OVERRIDES_HEADROOM_CHARS} characters as JSON, 8193 with the ${CONTAINER_OVERRIDES_HEADROOM_CHARS} that Batch adds, over ECS's limit of 8192`),
    );
  });

  it("counts multi-byte characters by their UTF-8 bytes (never fewer than characters)", () => {
    expect(() => planWorkflow(withPad("é".repeat(Math.ceil(room / 2) + 1)), context())).toThrow(/over ECS's limit of 8192/);
  });

  it("counts `Ref::` placeholders with their parameter substituted, as Batch sends the command to ECS", () => {
    const spec = parseWorkflowSpec({ steps: [{ name: "ref", jobDefinition: "process", command: ["cp", "Ref::key", "s3://out/Ref::key"] }] });
    expect(() => planWorkflow(spec, context({ input: { ...INPUT, key: "k".repeat(3_000) } }))).toThrow(/^step `ref`, job `ref`: its container overrides are \d+ characters/);
    // The same key without the placeholders fits: only the environment carries it once.
    expect(() => planWorkflow(defaultWorkflow(1), context({ input: { ...INPUT, key: "k".repeat(3_000) } }))).not.toThrow();
  });

  it("names the chunk of a wide step that is too large", () => {
    const spec = parseWorkflowSpec({ steps: [{ name: "wide", jobDefinition: "process", width: { fixed: 20_000 }, environment: { PAD: "x".repeat(room + 100) } }] });
    expect(() => planWorkflow(spec, context())).toThrow(/^step `wide`, job `wide-p0`/);
  });
});

describe("worstCaseInput (planning a stack's workflow before any object exists)", () => {
  it("is the largest object a run can get: a 1,024-byte key of single-byte characters, the largest size the start job accepts", () => {
    const input = worstCaseInput();
    expect(Buffer.byteLength(input.key)).toBe(1024);
    expect(input.key).toHaveLength(1024);
    expect(JSON.stringify(input.key)).toHaveLength(1024 + 2); // nothing JSON escapes
    expect(input.sizeBytes).toBe(Number.MAX_SAFE_INTEGER);
    expect(input.bucket).toHaveLength(63);
    expect(input.versionId!.length).toBeGreaterThanOrEqual(32);
    expect(input.eTag).toMatch(/^[0-9a-f]{32}-10000$/);
    expect(worstCaseInput({ bucket: "my-bucket" }).bucket).toBe("my-bucket");
  });

  it("lets the default workflow plan", () => {
    const plan = planWorkflow(defaultWorkflow(1_000_000), context({ input: worstCaseInput() }));
    expect(plan.jobs.length).toBeGreaterThan(100);
    expect(Math.max(...plan.jobs.map((j) => containerOverridesLength(j.request)))).toBeLessThan(MAX_CONTAINER_OVERRIDES_CHARS - CONTAINER_OVERRIDES_HEADROOM_CHARS);
  });

  it("fails a workflow whose step environment leaves no room for the longest key, naming the step", () => {
    const spec = parseWorkflowSpec({
      steps: [
        { name: "small", jobDefinition: "process" },
        { name: "chatty", jobDefinition: "process", dependsOn: ["small"], environment: { CONFIG: "c".repeat(6_000) } },
      ],
    });
    // A short key fits: only the worst case shows the problem, before the first upload does.
    expect(() => planWorkflow(spec, context())).not.toThrow();
    expect(() => planWorkflow(spec, context({ input: worstCaseInput() }))).toThrow(/^step `chatty`, job `chatty`: its container overrides are \d+ characters as JSON, \d+ with the \d+ that Batch adds, over ECS's limit of 8192/);
  });
});

describe("parameters of an unversioned object", () => {
  // Batch substitutes `Ref::name` in a command only for parameters the job has: a missing `versionId`
  // would leave the literal `Ref::versionId` in the command (job definition parameters, Batch user guide).
  it("gives every task job an empty versionId parameter, like the start job", () => {
    const { versionId: _, ...unversioned } = INPUT;
    const plan = planWorkflow(defaultWorkflow(3), context({ input: unversioned }));
    for (const job of plan.jobs.filter((j) => j.kind === "task")) expect(job.request.parameters).toHaveProperty("versionId", "");
  });
});
