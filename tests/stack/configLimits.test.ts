/**
 * Stack config checked at preview against limits that would otherwise bite at run time: the 50 tags of a
 * job, ECS's container overrides for S3's longest key, and the timeout of a start job that waits.
 */
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { ConfigError, parsePipelineConfig, providerConfigFromPulumi, rawConfigFromPulumi, tagBudgetProblem, worstCasePlanProblem } from "../../stack/config";
import { CONTAINER_OVERRIDES_HEADROOM_CHARS, MAX_CONTAINER_OVERRIDES_CHARS, MAX_TAGS_PER_JOB, PIPELINE_TAG_COUNT } from "../../contract";
import { planWorkflow } from "../../workflow/planner";
import { containerOverridesLength, worstCaseInput } from "../../workflow/requestLimits";
import { parseWorkflowSpec } from "../../workflow/spec";
import { errorOf, NS } from "./configErrors";

const tagsOf = (count: number, prefix = "k") => Object.fromEntries(Array.from({ length: count }, (_, i) => [`${prefix}${i}`, "v"]));

// AWS Batch (SubmitJob `propagateTags`): "For tags with the same name, job tags are given priority over job
// definitions tags. If the total number of combined tags from the job and job definition is over 50, the job
// is moved to the FAILED state." The AWS provider puts aws:defaultTags on every resource it creates (job
// definitions), not on jobs, which the pipeline submits through the SDK.
describe("the 50-tag budget of every job: tags ∪ aws:defaultTags ∪ the pipeline's own, combined by name", () => {
  it("counts the pipeline's own tags from the contract", () => {
    expect([MAX_TAGS_PER_JOB, PIPELINE_TAG_COUNT]).toEqual([50, 5]);
  });

  it.each([
    // [stack tags, default tags not among them, default tags sharing a stack tag's key, combined, fits]
    [0, 0, 0, 5, true],
    [45, 0, 0, 50, true], // without default tags 45 is the most
    [46, 0, 0, 51, false],
    [20, 25, 0, 50, true], // exactly 50
    [20, 26, 0, 51, false], // one past
    [20, 25, 3, 50, true], // a default tag a stack tag shares the name of is one tag
    [0, 45, 0, 50, true],
    [0, 46, 0, 51, false],
  ])("given %i tags, %i other and %i shared aws:defaultTags (%i combined), accepts them: %s", (own, extra, shared, total, fits) => {
    const tags = tagsOf(own);
    const awsDefaultTags = { tags: { ...tagsOf(extra, "d"), ...tagsOf(shared) } };
    expect(new Set([...Object.keys(tags), ...Object.keys(awsDefaultTags.tags)]).size + PIPELINE_TAG_COUNT).toBe(total);
    expect(tagBudgetProblem(tags, awsDefaultTags.tags) === undefined).toBe(fits);
    const parse = () => parsePipelineConfig({ tags }, NS, { awsDefaultTags });
    if (fits) expect(parse().tags).toEqual(tags);
    else expect(parse).toThrow(ConfigError);
  });

  // The value is cut short past 100 characters (the counts say the rest), so the line stays readable.
  it("names tags and aws:defaultTags, the counts and the rule in one message", () => {
    const message = errorOf({ tags: tagsOf(20) }, { awsDefaultTags: { tags: tagsOf(26, "d") } });
    expect(message.match(/^ {2}- /gm)).toHaveLength(1);
    expect(message).toContain(
      `batch-pipeline:tags = ${JSON.stringify(tagsOf(20)).slice(0, 80)}… (20 keys): 20 tags, 26 aws:defaultTags and the pipeline's own 5 make 51 distinct tags on every job ` +
        "(its own and its job definition's, combined by name) > 50; Batch fails a job whose combined tags exceed 50",
    );
  });

  it("reports the budget with the other bad keys at once", () => {
    const message = errorOf({ tags: tagsOf(46), logRetentionDays: 2 });
    expect(message).toContain("logRetentionDays = 2");
    expect(message).toContain("46 tags, 0 aws:defaultTags");
  });

  it.each([[{ tags: { a: 1 } }], [["a"]], ["text"], [{ tag: {} }]])("given aws:defaultTags = %j, names it and its shape", (awsDefaultTags) => {
    expect(errorOf({}, { awsDefaultTags })).toContain(`aws:defaultTags = ${JSON.stringify(awsDefaultTags)}: must be {"tags": {<key>: <value>, ...}}`);
  });

  it("reads aws:defaultTags from a stack file the way Pulumi hands it to the program", () => {
    const doc = parse(`config:\n  aws:region: eu-west-1\n  aws:defaultTags:\n    tags:\n      owner: data\n      team: platform\n  batch-pipeline:logRetentionDays: 7\n`) as {
      config: Record<string, unknown>;
    };
    const flat = Object.fromEntries(Object.entries(doc.config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
    expect(providerConfigFromPulumi(flat)).toEqual({ awsDefaultTags: { tags: { owner: "data", team: "platform" } } });
    expect(providerConfigFromPulumi({ "aws:region": "eu-west-1" })).toEqual({});
    expect(() => parsePipelineConfig(rawConfigFromPulumi(flat, NS), NS, providerConfigFromPulumi(flat))).not.toThrow();
  });
});

describe("the workflow planned at preview for the longest key S3 allows", () => {
  // ECS rejects container overrides over 8,192 characters when the task starts ("Container Overrides
  // length must be at most 8192", ECS RunTask `overrides`); Batch accepts the job first. With a 1,024-byte
  // key (S3's maximum), a step's own environment can push a run over it: preview must say so.
  const specWith = (padding: number) =>
    parseWorkflowSpec({ steps: [{ name: "only", jobDefinition: "process", environment: { PAD: "x".repeat(padding) } }] }, { jobDefinitionKeys: ["process"] });
  const largestFitting = () => {
    let lo = 0;
    let hi = MAX_CONTAINER_OVERRIDES_CHARS;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (worstCasePlanProblem(specWith(mid), { process: {} }) === undefined) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };

  it("passes up to exactly 8,192 characters with Batch's own variables, and fails one character past, naming the step", () => {
    const n = largestFitting();
    const plan = planWorkflow(specWith(n), { runId: "0".repeat(24), input: worstCaseInput(), jobDefinitions: { process: "p", barrier: "b" }, jobQueue: "q", stack: "s" });
    expect(containerOverridesLength(plan.jobs[0]!.request) + CONTAINER_OVERRIDES_HEADROOM_CHARS).toBe(MAX_CONTAINER_OVERRIDES_CHARS);
    expect(worstCasePlanProblem(specWith(n + 1), { process: {} })).toMatch(/1,024 bytes.*`only`.*8192/);
  });

  it("fails pulumi preview with one message on `workflow`", () => {
    const message = errorOf({ workflow: { steps: [{ name: "only", jobDefinition: "process", environment: { PAD: "x".repeat(largestFitting() + 1) } }] } });
    expect(message).toMatch(/batch-pipeline:workflow: cannot run for an input key of 1,024 bytes/);
  });

  it("accepts the default workflow", () => {
    expect(worstCasePlanProblem(parsePipelineConfig({}).workflow, { process: {} })).toBeUndefined();
  });

  it("measures a step without its own command with its job definition's, Ref:: parameters substituted", () => {
    // `Ref::key` becomes the 1,024-byte key, which the environment already holds once: 5 more fit in 8,192 characters, 6 do not.
    const spec = parseWorkflowSpec({ steps: [{ name: "only", jobDefinition: "process" }] }, { jobDefinitionKeys: ["process"] });
    expect(worstCasePlanProblem(spec, { process: { command: ["run", ...Array(5).fill("Ref::key")] } })).toBeUndefined();
    expect(worstCasePlanProblem(spec, { process: { command: ["run", ...Array(6).fill("Ref::key")] } })).toMatch(/step `only` .*job definition's command.*8192/);
    const message = errorOf({ jobDefinitions: { process: { image: "busybox:1.37", command: ["run", ...Array(6).fill("Ref::key")] } }, workflow: { steps: [{ name: "only", jobDefinition: "process" }] } });
    expect(message).toMatch(/batch-pipeline:workflow: cannot run for an input key of 1,024 bytes/);
  });
});

describe("orchestrator.timeoutSeconds and wait", () => {
  // A job that times out is stopped and not retried (AWS Batch job timeouts / job retries docs): a waiting
  // start job that times out reports the run failed while the run goes on.
  it("defaults to an hour to submit, a day to wait", () => {
    expect(parsePipelineConfig({}).orchestrator.timeoutSeconds).toBe(3600);
    expect(parsePipelineConfig({ orchestrator: { wait: true } }).orchestrator.timeoutSeconds).toBe(86_400);
  });

  it("with wait, accepts exactly the default workflow's slowest failing run (3600 + 3 steps × 3 attempts × 3600 s) and refuses one second less", () => {
    expect(parsePipelineConfig({ orchestrator: { wait: true, timeoutSeconds: 36_000 } }).orchestrator.timeoutSeconds).toBe(36_000);
    expect(errorOf({ orchestrator: { wait: true, timeoutSeconds: 35_999 } })).toMatch(/batch-pipeline:orchestrator\.timeoutSeconds = 35999: .*at least 36000 s/);
  });

  it("with wait and no timeout set, defaults to the longer of a day and the workflow's minimum", () => {
    // 8 steps in a chain, each 3 attempts × 3600 s: 86,400 + 3,600 = 90,000 s at least.
    const steps = Array.from({ length: 8 }, (_, i) => ({ name: `s${i}`, jobDefinition: "process", ...(i > 0 ? { dependsOn: [`s${i - 1}`] } : {}) }));
    expect(parsePipelineConfig({ orchestrator: { wait: true }, workflow: { steps } }).orchestrator.timeoutSeconds).toBe(90_000);
    expect(errorOf({ orchestrator: { wait: true, timeoutSeconds: 86_400 }, workflow: { steps } })).toMatch(/at least 90000 s/);
  });

  it("without wait, takes any timeout of a minute or more", () => {
    expect(parsePipelineConfig({ orchestrator: { timeoutSeconds: 60 } }).orchestrator.timeoutSeconds).toBe(60);
  });
});
