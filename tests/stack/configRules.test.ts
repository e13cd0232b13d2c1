/** Each rule between stack config keys on its own: a pure function from the shaped config to its issues. */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import {
  type ConfigIssue,
  type ConfigRule,
  distinctPrioritiesRule,
  type Ec2Environment,
  type Ec2EnvironmentRule,
  environmentArchitectureRule,
  highAboveLowRule,
  jobSizesRule,
  minVcpusRule,
  parsePipelineConfig,
  pipelineConfigObject,
  queueCountRule,
  queueReferencesRule,
  requiredQueuesRule,
  reservedJobDefinitionKeysRule,
  reservedQueueNameRule,
  sharedArchitectureRule,
  startJobArchitectureRule,
  triggerFilterCharactersRule,
  triggerPrefixCharactersRule,
  type TriggerKeys,
  triggerPrefixesRule,
  type TriggerDeliveryKeys,
  triggerQueueConcurrencyRule,
  waitTimeoutRule,
  inlineWaitRule,
  inlinePlanRule,
  workflowOf,
  workflowOverridesRule,
  workflowSpecRule,
} from "../../stack/config";
import type { ArgsProblem } from "../../stack/argsError";
import { jobSizeProblem, minVcpusProblem, queuePriorityProblem, retryAttemptsProblem, runnableTimeoutProblem } from "../../stack/batchRules";
import { queueConcurrencyProblem, queueMaxConcurrencyProblem } from "../../stack/triggerRules";
import { parseWorkflowSpec } from "../../workflow/spec";

/** A config with every key shaped and defaulted, before the rules: what a rule reads. */
const draft = (raw: Record<string, unknown> = {}) => pipelineConfigObject.parse(raw);
const queuesOf = (count: number) =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => [i === 0 ? "high" : i === 1 ? "low" : `q${i}`, { priority: 1000 - i }]));
const chain = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `s${i}`, jobDefinition: "process", ...(i > 0 ? { dependsOn: [`s${i - 1}`] } : {}) }));
const FARGATE_ON = { compute: { fargate: { enabled: true } } };

type Case = [raw: Record<string, unknown>, expected: ConfigIssue[]];

/** prepare → a chunked step with no `max` (up to 1,000,000 tasks) → merge. */
const CHUNKED_BETWEEN = [
  { name: "prepare", jobDefinition: "process" },
  { name: "chunks", jobDefinition: "process", dependsOn: ["prepare"], width: { perChunkBytes: 1 } },
  { name: "merge", jobDefinition: "process", dependsOn: ["chunks"] },
];

describe.each<[string, ConfigRule, Case[]]>([
  ["requiredQueuesRule", requiredQueuesRule, [
    [{}, []],
    [{ queues: { high: { priority: 100 } } }, [{ path: ["queues", "low"], message: "queue `low` is required" }]],
    [{ queues: { mid: { priority: 1 } } }, [
      { path: ["queues", "high"], message: "queue `high` is required" },
      { path: ["queues", "low"], message: "queue `low` is required" },
    ]],
  ]],
  ["distinctPrioritiesRule", distinctPrioritiesRule, [
    [{}, []],
    [{ queues: { high: { priority: 10 }, low: { priority: 10 } } }, [
      { path: ["queues", "low", "priority"], message: "priority 10 is already used by queue `high`; queues sharing environments need distinct priorities" },
    ]],
  ]],
  ["highAboveLowRule", highAboveLowRule, [
    [{}, []],
    [{ queues: { high: { priority: 5 }, low: { priority: 10 } } }, [{ path: ["queues", "high", "priority"], message: "must be greater than queues.low.priority (10)" }]],
    [{ queues: { high: { priority: 1 } } }, []],
  ]],
  ["queueReferencesRule", queueReferencesRule, [
    [{}, []],
    [{ startQueue: "urgent" }, [{ path: ["startQueue"], message: "is not a queue (queues: high, low)" }]],
    [{ processQueue: "fargate" }, [{ path: ["processQueue"], message: "the `fargate` queue exists only with compute.fargate.enabled: true" }]],
    [{ ...FARGATE_ON, processQueue: "fargate", startQueue: "none" }, [{ path: ["startQueue"], message: "is not a queue (queues: high, low, fargate)" }]],
  ]],
  ["jobSizesRule", jobSizesRule, [
    [{}, []],
    [{ jobDefinitions: { process: { image: "b:1", vcpus: 0.5 } } }, [
      { path: ["jobDefinitions", "process", "vcpus"], message: "EC2 jobs take whole vCPUs (fractions need processQueue `fargate`)" },
    ]],
    [{ jobDefinitions: { process: { image: "b:1", vcpus: 96 } } }, [
      { path: ["jobDefinitions", "process", "vcpus"], message: "exceeds the larger of compute.spot.maxVcpus and compute.onDemand.maxVcpus (64); the job could never be placed" },
    ]],
    [{ ...FARGATE_ON, processQueue: "fargate", jobDefinitions: { process: { image: "b:1", vcpus: 0.25, memoryMiB: 512 } } }, []],
    [{ ...FARGATE_ON, processQueue: "fargate", jobDefinitions: { process: { image: "b:1", vcpus: 3 } } }, [
      { path: ["jobDefinitions", "process", "vcpus"], message: "Fargate accepts 0.25, 0.5, 1, 2, 4, 8, 16 vCPUs (processQueue is `fargate`)" },
    ]],
    [{ ...FARGATE_ON, startQueue: "fargate" }, [
      { path: ["orchestrator", "memoryMiB"], message: "Fargate with 1 vCPU accepts 2048 to 8192 MiB in steps of 1024 (startQueue is `fargate`)" },
    ]],
    [{ compute: { fargate: { enabled: true, maxVcpus: 1 } }, startQueue: "fargate", orchestrator: { vcpus: 2, memoryMiB: 4096 } }, [
      { path: ["orchestrator", "vcpus"], message: "exceeds compute.fargate.maxVcpus (1); the start job could never be placed" },
    ]],
  ]],
  ["reservedQueueNameRule", reservedQueueNameRule, [
    [FARGATE_ON, []],
    [{ queues: { high: { priority: 100 }, low: { priority: 1 }, fargate: { priority: 7 } } }, [
      { path: ["queues", "fargate"], message: "`fargate` is reserved for the Fargate queue (compute.fargate.enabled); rename this queue" },
    ]],
  ]],
  ["reservedJobDefinitionKeysRule", reservedJobDefinitionKeysRule, [
    [{ jobDefinitions: { process: { image: "b:1" }, orchestrate: { image: "b:1" } } }, []],
    [{ jobDefinitions: { barrier: { image: "b:1" }, orchestrator: { image: "b:1" }, "orchestrator-x": { image: "b:1" } } }, [
      { path: ["jobDefinitions", "barrier"], message: "`barrier` is reserved for the planner's no-op jobs" },
      { path: ["jobDefinitions", "orchestrator"], message: "keys starting with `orchestrator` are reserved: the start job's definition and log group are named so" },
      { path: ["jobDefinitions", "orchestrator-x"], message: "keys starting with `orchestrator` are reserved: the start job's definition and log group are named so" },
    ]],
  ]],
  ["environmentArchitectureRule", environmentArchitectureRule, [
    [{ compute: { spot: { instanceTypes: ["m7g", "c7g"] } } }, []],
    [{ compute: { spot: { instanceTypes: ["c7i", "c7g", "m7g"] }, onDemand: { instanceTypes: ["a1", "m7i"] } } }, [
      { path: ["compute", "spot", "instanceTypes"], message: "mixes arm64 (c7g, m7g) with x86_64 types; Batch requires one architecture per queue" },
      { path: ["compute", "onDemand", "instanceTypes"], message: "mixes arm64 (a1) with x86_64 types; Batch requires one architecture per queue" },
    ]],
  ]],
  ["sharedArchitectureRule", sharedArchitectureRule, [
    [{ compute: { spot: { instanceTypes: ["m7g"] }, onDemand: { instanceTypes: ["c7g"] } } }, []],
    [{ compute: { spot: { instanceTypes: ["c7i", "m7g"] } } }, []],
    [{ compute: { spot: { instanceTypes: ["m7g"] } } }, [{
      path: ["compute", "onDemand", "instanceTypes"],
      message: "are x86_64 but compute.spot.instanceTypes are arm64; both environments serve every EC2 queue, and Batch requires one architecture per queue",
    }]],
  ]],
  ["queueCountRule", queueCountRule, [
    [{ queues: queuesOf(50) }, []],
    [{ queues: queuesOf(51) }, [{ path: ["queues"], message: "Batch allows at most 50 job queues per region" }]],
    [{ ...FARGATE_ON, queues: queuesOf(50) }, [{ path: ["queues"], message: "Batch allows at most 50 job queues per region" }]],
  ]],
  ["workflowSpecRule", workflowSpecRule, [
    [{}, []],
    [{ workflow: { steps: [{ name: "a", jobDefinition: "gpu" }] } }, [
      { path: ["workflow"], message: "workflow step `a`: jobDefinition `gpu` is not a known job definition key (known: process)" },
    ]],
    [{ workflow: "nope" }, [{ path: ["workflow"], message: "workflow: the workflow must be an object `{ steps: [...] }`" }]],
  ]],
  ["workflowOverridesRule", workflowOverridesRule, [
    [{}, []],
    [{ workflow: "nope" }, []],
    [{ jobDefinitions: { process: { image: "b:1", command: ["run", ...Array(5).fill("Ref::key")] } }, workflow: { steps: [{ name: "only", jobDefinition: "process" }] } }, []],
  ]],
  ["waitTimeoutRule", waitTimeoutRule, [
    [{ orchestrator: { timeoutSeconds: 60 } }, []],
    [{ orchestrator: { wait: true } }, []],
    [{ orchestrator: { wait: true, timeoutSeconds: 36_000 } }, []],
    [{ orchestrator: { wait: true, timeoutSeconds: 100 }, workflow: "nope" }, []],
    [{ orchestrator: { wait: true, timeoutSeconds: 86_400 }, workflow: { steps: chain(8) } }, [{
      path: ["orchestrator", "timeoutSeconds"],
      message:
        "86400 is shorter than the run can take with `wait`: at least 90000 s (3600 to submit, plus retryAttempts × timeoutSeconds along the workflow's longest chain of steps); " +
        "a timed-out start job is not retried and reports the run failed while it goes on",
    }]],
  ]],
  ["inlineWaitRule", inlineWaitRule, [
    [{}, []],
    [{ orchestrator: { mode: "inline" } }, []],
    [{ orchestrator: { mode: "auto", wait: true } }, []],
    [{ orchestrator: { mode: "container", wait: true } }, []],
    [{ orchestrator: { mode: "inline", wait: true } }, [{
      path: ["orchestrator", "wait"],
      message: "`orchestrator.mode: inline` runs no start job to wait in; use mode `container` (or `auto`, which then always takes a start job), or wait with `batch-pipeline watch`",
    }]],
  ]],
  ["inlinePlanRule", inlinePlanRule, [
    [{ orchestrator: { mode: "inline" } }, []],
    // One chunked step at its widest, 1,000,000 tasks: 100 arrays of 10,000, exactly INLINE_MAX_SUBMIT_JOBS.
    [{ orchestrator: { mode: "inline" }, workflow: { steps: [{ name: "chunks", jobDefinition: "process", width: { perChunkBytes: 1 } }] } }, []],
    // prepare → the same step → merge: 1 + 100 + 5 barriers (20 dependencies a job) + 1.
    [{ orchestrator: { mode: "inline" }, workflow: { steps: CHUNKED_BETWEEN } }, [{
      path: ["orchestrator", "mode"],
      message: "the workflow's largest plan (size-derived steps at their `max` width) needs 107 SubmitJob calls, more than the 100 an inline invocation's budget is sized for; use `auto` (a start job for plans over 20 calls), `container`, or a lower `max` on the chunked steps",
    }]],
    [{ orchestrator: { mode: "auto" }, workflow: { steps: CHUNKED_BETWEEN } }, []],
    [{ orchestrator: { mode: "inline" }, workflow: "nope" }, []],
  ]],
])("%s", (_name, rule, cases) => {
  it.each(cases)("given %j, finds %j", (raw, expected) => {
    expect(rule(draft(raw))).toEqual(expected);
  });
});

describe("workflowOverridesRule, for a step whose job definition's command is too long for S3's longest key", () => {
  it("names the step and the limit", () => {
    const issues = workflowOverridesRule(draft({ jobDefinitions: { process: { image: "b:1", command: ["run", ...Array(6).fill("Ref::key")] } }, workflow: { steps: [{ name: "only", jobDefinition: "process" }] } }));
    expect(issues.map((i) => i.path)).toEqual([["workflow"]]);
    expect(issues[0]!.message).toMatch(/^cannot run for an input key of 1,024 bytes \(S3's longest\): step `only` .*8192/);
  });
});

describe.each<[string, Ec2EnvironmentRule, [raw: Record<string, unknown>, env: Ec2Environment, expected: ConfigIssue[]][]]>([
  ["startJobArchitectureRule", startJobArchitectureRule, [
    [{}, "spot", []],
    [{ compute: { spot: { instanceTypes: ["c7i", "m7g"] } } }, "spot", [
      { path: ["compute", "spot", "instanceTypes", 1], message: "is an arm64 (Graviton) type, but the orchestrator image is linux/amd64 and runs here; use x86_64 types or startQueue `fargate`" },
    ]],
    [{ compute: { spot: { instanceTypes: ["c7i", "m7g"] } } }, "onDemand", []],
    [{ compute: { onDemand: { instanceTypes: ["m7g"] }, fargate: { enabled: true } }, startQueue: "fargate" }, "onDemand", []],
  ]],
  ["minVcpusRule", minVcpusRule, [
    [{ compute: { spot: { minVcpus: 4, maxVcpus: 4 } } }, "spot", []],
    [{ compute: { spot: { minVcpus: 8, maxVcpus: 4 } } }, "spot", [
      { path: ["compute", "spot", "minVcpus"], message: "minVcpus = 8 > maxVcpus = 4; minVcpus cannot exceed maxVcpus" },
    ]],
    [{ compute: { onDemand: { minVcpus: 20 } } }, "onDemand", [
      { path: ["compute", "onDemand", "minVcpus"], message: "minVcpus = 20 > maxVcpus = 16; minVcpus cannot exceed maxVcpus" },
    ]],
  ]],
])("%s", (_name, rule, cases) => {
  it.each(cases)("given %j and %s, finds %j", (raw, env, expected) => {
    expect(rule(draft(raw), env)).toEqual(expected);
  });
});

describe.each<[string, (t: TriggerKeys) => ConfigIssue[], [TriggerKeys, ConfigIssue[]][]]>([
  ["triggerFilterCharactersRule", triggerFilterCharactersRule, [
    [{ prefix: "in/", suffix: ".csv", outputPrefix: "out and more/" }, []],
    [{ prefix: "in coming/", suffix: "+=.csv", outputPrefix: "out/" }, [
      {
        path: ["prefix"],
        message:
          "holds \" \", outside S3's safe key characters (A-Z a-z 0-9 ! - _ . * ' ( ) and /); " +
          "S3 wants other characters of a notification filter URL-encoded in a way it does not document exactly, so trigger.prefix and trigger.suffix take safe characters only",
      },
      {
        path: ["suffix"],
        message:
          "holds \"+\", \"=\", outside S3's safe key characters (A-Z a-z 0-9 ! - _ . * ' ( ) and /); " +
          "S3 wants other characters of a notification filter URL-encoded in a way it does not document exactly, so trigger.prefix and trigger.suffix take safe characters only",
      },
    ]],
  ]],
  ["triggerPrefixCharactersRule", triggerPrefixCharactersRule, [
    [{ prefix: "in/", suffix: "*.csv", outputPrefix: "out/" }, []],
    [{ prefix: "in *?/", suffix: "", outputPrefix: "*" }, [
      {
        path: ["prefix"],
        message:
          "holds \"*\", which IAM ARNs or S3 filters do not read literally (in an ARN * and ? are wildcards, ${…} a policy variable): " +
          "trigger.prefix and trigger.outputPrefix go into the roles' s3 ARNs and take A-Z a-z 0-9 ! - _ . ' ( ) and / only",
      },
      {
        path: ["outputPrefix"],
        message:
          "holds \"*\", which IAM ARNs or S3 filters do not read literally (in an ARN * and ? are wildcards, ${…} a policy variable): " +
          "trigger.prefix and trigger.outputPrefix go into the roles' s3 ARNs and take A-Z a-z 0-9 ! - _ . ' ( ) and / only",
      },
    ]],
  ]],
  ["triggerPrefixesRule", triggerPrefixesRule, [
    [{ prefix: "in/", suffix: "", outputPrefix: "out/" }, []],
    [{ prefix: "", suffix: "", outputPrefix: "" }, [
      { path: ["prefix"], message: "must not be empty: every key, outputs included, would trigger a run" },
      { path: ["outputPrefix"], message: "must not be empty: results would land under every prefix, trigger.prefix included" },
    ]],
    [{ prefix: "in/", suffix: "", outputPrefix: "in/out/" }, [{ path: ["outputPrefix"], message: "must not overlap trigger.prefix (\"in/\"): results written there would start new runs" }]],
    [{ prefix: "data/in/", suffix: "", outputPrefix: "data/" }, [{ path: ["outputPrefix"], message: "must not overlap trigger.prefix (\"data/in/\"): results written there would start new runs" }]],
  ]],
])("%s", (_name, rule, cases) => {
  it.each(cases)("given %j, finds %j", (keys, expected) => {
    expect(rule(keys)).toEqual(expected);
  });
});

// Lambda developer guide, "Configuring scaling behavior for SQS event source mappings": the function's reserved
// concurrency must be at least the mapping's maximum concurrency, or Lambda throttles its batches.
describe.each<[string, (t: TriggerDeliveryKeys) => ConfigIssue[], [TriggerDeliveryKeys, ConfigIssue[]][]]>([
  ["triggerQueueConcurrencyRule", triggerQueueConcurrencyRule, [
    [{ delivery: "queue", maxConcurrency: 10, queueMaxConcurrency: 2 }, []],
    [{ delivery: "queue", maxConcurrency: 5, queueMaxConcurrency: 5 }, []],
    // 0 reserves nothing: the account's unreserved concurrency is the only bound.
    [{ delivery: "queue", maxConcurrency: 0, queueMaxConcurrency: 1000 }, []],
    // No event source mapping with asynchronous invocation: an async stack with maxConcurrency 1 stays valid.
    [{ delivery: "async", maxConcurrency: 1, queueMaxConcurrency: 2 }, []],
    [{ delivery: "queue", maxConcurrency: 1, queueMaxConcurrency: 2 }, [{
      path: ["queueMaxConcurrency"],
      message:
        "queueMaxConcurrency = 2 > maxConcurrency = 1; the event source mapping's maximum concurrency may not exceed the function's reserved concurrency, or Lambda throttles its batches back to the queue (and, received too often, to the dead-letter queue): " +
        "set trigger.maxConcurrency to at least 2 (or 0, reserving none), or lower trigger.queueMaxConcurrency",
    }]],
  ]],
])("%s", (_name, rule, cases) => {
  it.each(cases)("given %j, finds %j", (keys, expected) => {
    expect(rule(keys)).toEqual(expected);
  });
});

describe("the workflow is parsed once", () => {
  it("gives the rules and the transform the same spec, reading the configured value once", () => {
    let reads = 0;
    const workflow = { get steps() { reads++; return [{ name: "a", jobDefinition: "process" }]; } };
    parseWorkflowSpec(workflow, { jobDefinitionKeys: ["process"] });
    const once = reads;
    reads = 0;
    expect(parsePipelineConfig({ workflow }).workflow.steps.map((s) => s.name)).toEqual(["a"]);
    expect(reads).toBe(once);
    const d = draft();
    expect(workflowOf(d)).toBe(workflowOf(d));
  });
});

// The rules a component checks too live in the component; config and component word them for their
// own context (a config key, or a component argument), from the same function.
describe.each<[string, () => ArgsProblem | undefined, string | undefined]>([
  ["queuePriorityProblem(0)", () => queuePriorityProblem(0), undefined],
  ["queuePriorityProblem(1000)", () => queuePriorityProblem(1000), undefined],
  ["queuePriorityProblem(1001)", () => queuePriorityProblem(1001), "priority must be a whole number from 0 to 1000"],
  ["queuePriorityProblem(2.5)", () => queuePriorityProblem(2.5), "priority must be a whole number from 0 to 1000"],
  ["runnableTimeoutProblem(600)", () => runnableTimeoutProblem(600), undefined],
  ["runnableTimeoutProblem(86401)", () => runnableTimeoutProblem(86_401), "Batch accepts 600 to 86400 seconds"],
  ["minVcpusProblem(4, 4)", () => minVcpusProblem(4, 4), undefined],
  ["minVcpusProblem(5, 4)", () => minVcpusProblem(5, 4), "minVcpus cannot exceed maxVcpus"],
  ["retryAttemptsProblem(10)", () => retryAttemptsProblem(10), undefined],
  ["retryAttemptsProblem(0)", () => retryAttemptsProblem(0), "Batch accepts 1 to 10 attempts"],
  ["jobSizeProblem(EC2, 0.5, 1024)", () => jobSizeProblem("EC2", 0.5, 1024), "EC2 jobs take whole vCPUs"],
  ["jobSizeProblem(FARGATE, 0.5, 1024)", () => jobSizeProblem("FARGATE", 0.5, 1024), undefined],
  ["queueMaxConcurrencyProblem(2)", () => queueMaxConcurrencyProblem(2), undefined],
  ["queueMaxConcurrencyProblem(1000)", () => queueMaxConcurrencyProblem(1000), undefined],
  ["queueMaxConcurrencyProblem(1)", () => queueMaxConcurrencyProblem(1), "Lambda accepts a maximum concurrency from 2 to 1000 for an SQS event source mapping"],
  ["queueMaxConcurrencyProblem(1001)", () => queueMaxConcurrencyProblem(1001), "Lambda accepts a maximum concurrency from 2 to 1000 for an SQS event source mapping"],
  ["queueConcurrencyProblem(5, undefined)", () => queueConcurrencyProblem(5, undefined), undefined],
  ["queueConcurrencyProblem(5, 5)", () => queueConcurrencyProblem(5, 5), undefined],
  ["queueConcurrencyProblem(6, 5)", () => queueConcurrencyProblem(6, 5), "the event source mapping's maximum concurrency may not exceed the function's reserved concurrency, or Lambda throttles its batches back to the queue (and, received too often, to the dead-letter queue)"],
])("the shared problem function %s", (_label, problem, rule) => {
  it(rule === undefined ? "finds nothing" : `says: ${rule}`, () => {
    expect(problem()?.rule).toBe(rule);
  });
});

describe("config keys a component checks too report the component's rule", () => {
  it.each([
    [{ queues: { high: { priority: 1001 }, low: { priority: 1 } } }, "batch-pipeline:queues.high.priority = 1001: priority must be a whole number from 0 to 1000"],
    [{ compute: { fargate: { priority: -3 } } }, "batch-pipeline:compute.fargate.priority = -3: priority must be a whole number from 0 to 1000"],
    [{ jobDefinitions: { process: { image: "b:1", retryAttempts: 11 } } }, "batch-pipeline:jobDefinitions.process.retryAttempts = 11: Batch accepts 1 to 10 attempts"],
    [{ trigger: { delivery: "queue", queueMaxConcurrency: 1001 } }, "batch-pipeline:trigger.queueMaxConcurrency = 1001: Lambda accepts a maximum concurrency from 2 to 1000 for an SQS event source mapping"],
  ])("%j → %s", (raw, message) => {
    expect(() => parsePipelineConfig(raw)).toThrow(message);
  });
});

describe("the stack config is pure", () => {
  // `batch-pipeline validate` (and any tool) can check a stack without Pulumi's runtime: the rules that
  // components share with config live in stack/batchRules.ts and stack/fargate.ts, not in the components.
  it("loads without loading @pulumi/pulumi or @pulumi/aws", () => {
    const script = 'require("./stack/config"); console.log(JSON.stringify(Object.keys(require.cache).filter((k) => k.includes("@pulumi"))));';
    const out = execFileSync(process.execPath, ["--import", "tsx", "-e", script], { cwd: process.cwd(), encoding: "utf8" });
    expect(JSON.parse(out.trim().split("\n").at(-1)!)).toEqual([]);
  });
});
