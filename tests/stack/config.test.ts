import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { CONFIG_KEYS, DEFAULT_PROCESS_JOB, isArm64InstanceType, parsePipelineConfig, rawConfigFromPulumi } from "../../stack/config";
import { errorOf, NS } from "./configErrors";

/** Reads a stack file the way Pulumi hands config to the program: `ns:key` → JSON text. */
function stackFileConfig(file: string): Record<string, unknown> {
  const doc = parse(readFileSync(file, "utf8")) as { config: Record<string, unknown> };
  const flat = Object.fromEntries(
    Object.entries(doc.config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
  );
  return rawConfigFromPulumi(flat, NS);
}

describe("parsePipelineConfig defaults", () => {
  it("given no config, fills in a small Spot-first stack in the default VPC", () => {
    const cfg = parsePipelineConfig({});
    expect(cfg.network).toEqual({ mode: "default" });
    expect(cfg.compute.spot).toEqual({
      minVcpus: 0,
      maxVcpus: 64,
      bidPercentage: 100,
      allocationStrategy: "SPOT_PRICE_CAPACITY_OPTIMIZED",
      instanceTypes: ["optimal"],
    });
    expect(cfg.compute.onDemand).toEqual({
      minVcpus: 0,
      maxVcpus: 16,
      allocationStrategy: "BEST_FIT_PROGRESSIVE",
      instanceTypes: ["optimal"],
    });
    expect(cfg.compute.fargate).toEqual({ enabled: false, maxVcpus: 16, spotFirst: true, priority: 50 });
    expect(cfg.compute.fargate.assignPublicIp).toBeUndefined();
    expect(cfg.queues).toEqual({ high: { priority: 100 }, low: { priority: 10 } });
    expect(cfg.runnableTimeoutSeconds).toBe(3600);
    expect(cfg.logRetentionDays).toBe(30);
    expect(cfg.startQueue).toBe("high");
    expect(cfg.processQueue).toBe("low");
    expect(cfg.jobDefinitions).toEqual({
      process: { ...DEFAULT_PROCESS_JOB, vcpus: 1, memoryMiB: 2048, environment: {}, timeoutSeconds: 3600, retryAttempts: 3 },
    });
    expect(cfg.tags).toEqual({});
  });

  it("given a new VPC with only the mode, defaults its CIDR, AZs and NAT", () => {
    expect(parsePipelineConfig({ network: { mode: "new" } }).network).toEqual({
      mode: "new",
      cidrBlock: "10.0.0.0/16",
      availabilityZones: 2,
      natGateways: "Single",
    });
  });

  it("given a partial compute block, keeps the defaults of the rest", () => {
    const cfg = parsePipelineConfig({ compute: { spot: { maxVcpus: 8 } } });
    expect(cfg.compute.spot.maxVcpus).toBe(8);
    expect(cfg.compute.spot.bidPercentage).toBe(100);
    expect(cfg.compute.onDemand.maxVcpus).toBe(16);
  });
});

describe("permissionsBoundaryArn", () => {
  it("takes an IAM managed policy ARN, with a path or in another partition, and is unset by default", () => {
    expect(parsePipelineConfig({}).permissionsBoundaryArn).toBeUndefined();
    for (const arn of ["arn:aws:iam::123456789012:policy/batch-pipeline-permissions-boundary-prod", "arn:aws-us-gov:iam::123456789012:policy/boundaries/pipeline"]) {
      expect(parsePipelineConfig({ permissionsBoundaryArn: arn }).permissionsBoundaryArn).toBe(arn);
    }
  });
});

describe.each(["Pulumi.dev.yaml", "Pulumi.prod.yaml"])("the example stack %s", (file) => {
  it("validates against the schema", () => {
    const cfg = parsePipelineConfig(stackFileConfig(file));
    expect(cfg.queues.high!.priority).toBeGreaterThan(cfg.queues.low!.priority);
  });
});

describe("config errors name the key, the value and the rule", () => {
  it.each([
    [{ logRetentionDays: 10 }, "batch-pipeline:logRetentionDays = 10: must be one of 1, 3, 5, 7, 14, 30"],
    [{ compute: { spot: { maxVcpus: 0 } } }, "batch-pipeline:compute.spot.maxVcpus = 0"],
    [{ compute: { spot: { minVcpus: 8, maxVcpus: 4 } } }, "batch-pipeline:compute.spot.minVcpus = 8: minVcpus = 8 > maxVcpus = 4; minVcpus cannot exceed maxVcpus"],
    [{ compute: { spot: { bidPercentage: 120 } } }, "batch-pipeline:compute.spot.bidPercentage = 120"],
    [{ compute: { spot: { allocationStrategy: "FASTEST" } } }, "batch-pipeline:compute.spot.allocationStrategy = \"FASTEST\""],
    [{ compute: { onDemand: { allocationStrategy: "SPOT_CAPACITY_OPTIMIZED" } } }, "batch-pipeline:compute.onDemand.allocationStrategy = \"SPOT_CAPACITY_OPTIMIZED\""],
    [{ compute: { spot: { instanceTypes: ["C7I LARGE"] } } }, "batch-pipeline:compute.spot.instanceTypes[0] = \"C7I LARGE\": must be `optimal`, an instance family"],
    [{ compute: { spot: { instanceTypes: [] } } }, "batch-pipeline:compute.spot.instanceTypes = []"],
    [{ compute: { spot: { maxVcpu: 4 } } }, "batch-pipeline:compute.spot.maxVcpu = 4: unknown key"],
    [{ network: { mode: "shared" } }, "batch-pipeline:network.mode = \"shared\""],
    [{ network: { mode: "existing", vpcId: "vpc-123", subnetIds: ["subnet-0123abcd"] } }, "batch-pipeline:network.vpcId = \"vpc-123\": must be a VPC id"],
    [{ network: { mode: "existing", vpcId: "vpc-0123abcd", subnetIds: [] } }, "batch-pipeline:network.subnetIds = []"],
    [{ network: { mode: "new", cidrBlock: "10.0.0.0/8" } }, "batch-pipeline:network.cidrBlock = \"10.0.0.0/8\": must be an IPv4 CIDR from /16 to /24"],
    [{ queues: { high: { priority: 100 } } }, "batch-pipeline:queues.low = (unset): queue `low` is required"],
    [{ queues: { high: { priority: 10 }, low: { priority: 10 } } }, "batch-pipeline:queues.low.priority = 10: priority 10 is already used by queue `high`"],
    [{ queues: { high: { priority: 5 }, low: { priority: 10 } } }, "batch-pipeline:queues.high.priority = 5: must be greater than queues.low.priority (10)"],
    [{ queues: { high: { priority: 1001 }, low: { priority: 1 } } }, "batch-pipeline:queues.high.priority = 1001"],
    [{ queues: { High: { priority: 100 }, high: { priority: 50 }, low: { priority: 1 } } }, "batch-pipeline:queues.High"],
    [{ runnableTimeoutSeconds: 60 }, "batch-pipeline:runnableTimeoutSeconds = 60: must be 0 (off) or from 600 to 86400"],
    [{ permissionsBoundaryArn: "arn:aws:s3:::my-bucket" }, 'batch-pipeline:permissionsBoundaryArn = "arn:aws:s3:::my-bucket": must be an IAM managed policy ARN, arn:aws:iam::<account>:policy/<name>'],
    [{ permissionsBoundaryArn: "arn:aws:iam::123456789012:role/boundary" }, 'batch-pipeline:permissionsBoundaryArn = "arn:aws:iam::123456789012:role/boundary": must be an IAM managed policy ARN'],
    [{ permissionsBoundaryArn: "arn:aws:iam::123456789012:policy/*" }, 'batch-pipeline:permissionsBoundaryArn = "arn:aws:iam::123456789012:policy/*": must be an IAM managed policy ARN'],
    [{ startQueue: "urgent" }, "batch-pipeline:startQueue = \"urgent\": is not a queue (queues: high, low)"],
    [{ jobDefinitions: { barrier: { image: "busybox:1" } } }, "batch-pipeline:jobDefinitions.barrier"],
    [{ jobDefinitions: { process: { image: "busybox:1" }, "orchestrator-start": { image: "busybox:1" } } }, 'batch-pipeline:jobDefinitions.orchestrator-start = {"image":"busybox:1"}: keys starting with `orchestrator` are reserved'],
    [{ jobDefinitions: { process: { image: "busybox:latest" } } }, "batch-pipeline:jobDefinitions.process.image = \"busybox:latest\": pin a tag or digest"],
    [{ jobDefinitions: { process: { image: "busybox:1", timeoutSeconds: 10 } } }, "batch-pipeline:jobDefinitions.process.timeoutSeconds = 10"],
    [{ compute: { fargate: { enabled: true } }, queues: { high: { priority: 100 }, low: { priority: 1 }, fargate: { priority: 7 } } }, "batch-pipeline:queues.fargate"],
    [{ queues: { high: { priority: 100 }, low: { priority: 1 }, fargate: { priority: 7 } } }, "batch-pipeline:queues.fargate = {\"priority\":7}: `fargate` is reserved for the Fargate queue"],
    [{ jobDefinitions: { process: { image: "busybox:1", vcpus: 96 } } }, "batch-pipeline:jobDefinitions.process.vcpus = 96: exceeds the larger of compute.spot.maxVcpus and compute.onDemand.maxVcpus (64); the job could never be placed"],
    [{ compute: { fargate: { enabled: true, maxVcpus: 4 } }, processQueue: "fargate", jobDefinitions: { process: { image: "busybox:1", vcpus: 8, memoryMiB: 16384 } } }, "batch-pipeline:jobDefinitions.process.vcpus = 8: exceeds compute.fargate.maxVcpus (4)"],
    [{ compute: { fargate: { enabled: true, maxVcpus: 1 } }, startQueue: "fargate", orchestrator: { vcpus: 2, memoryMiB: 4096 } }, "batch-pipeline:orchestrator.vcpus = 2: exceeds compute.fargate.maxVcpus (1); the start job could never be placed"],
    [{ compute: { spot: { instanceTypes: ["c7i", "c7g", "m7g"] }, fargate: { enabled: true } }, startQueue: "fargate", orchestrator: { memoryMiB: 2048 } }, 'batch-pipeline:compute.spot.instanceTypes = ["c7i","c7g","m7g"]: mixes arm64 (c7g, m7g) with x86_64 types'],
    [{ processQueue: "fargate" }, 'batch-pipeline:processQueue = "fargate": the `fargate` queue exists only with compute.fargate.enabled: true'],
    [{ compute: { fargate: { enabled: true } }, processQueue: "fargate", jobDefinitions: { process: { image: "busybox:1", vcpus: 3 } } }, "batch-pipeline:jobDefinitions.process.vcpus = 3: Fargate accepts 0.25, 0.5, 1, 2, 4, 8, 16 vCPUs (processQueue is `fargate`)"],
    [{ compute: { fargate: { enabled: true } }, processQueue: "fargate", jobDefinitions: { process: { image: "busybox:1", vcpus: 1, memoryMiB: 1000 } } }, "batch-pipeline:jobDefinitions.process.memoryMiB = 1000: Fargate with 1 vCPU accepts 2048 to 8192 MiB"],
    [{ compute: { fargate: { enabled: true } }, startQueue: "fargate" }, "batch-pipeline:orchestrator.memoryMiB = (unset): Fargate with 1 vCPU accepts 2048 to 8192 MiB in steps of 1024 (startQueue is `fargate`)"],
    [{ jobDefinitions: { process: { image: "busybox:1", vcpus: 0.5 } } }, "batch-pipeline:jobDefinitions.process.vcpus = 0.5: EC2 jobs take whole vCPUs"],
    [{ compute: { fargate: { enabled: true, assignPublicIp: "yes" } } }, "batch-pipeline:compute.fargate.assignPublicIp = \"yes\""],
    [{ compute: { spot: { instanceTypes: ["c7i", "m7g"] } } }, 'batch-pipeline:compute.spot.instanceTypes[1] = "m7g": is an arm64 (Graviton) type'],
    [{ compute: { onDemand: { instanceTypes: ["default_arm64"] } } }, 'batch-pipeline:compute.onDemand.instanceTypes[0] = "default_arm64": is an arm64'],
    [{ tags: { "aws:owner": "me" } }, "batch-pipeline:tags"],
    // AWS reserves the prefix in any case ("aws:" tag keys, AWS tagging docs), so the functions and the orchestrator refuse `AWS:` too.
    [{ tags: { "AWS:owner": "me" } }, "not start with `aws:`"],
    [{ tags: { "pipeline:run-id": "x" } }, "keys starting with `pipeline:` are the pipeline's own"],
    // Was "at most 46 tags" for 47, a limit that ignored the pipeline's fifth tag and aws:defaultTags; see the tag budget below.
    [{ tags: Object.fromEntries(Array.from({ length: 46 }, (_, i) => [`k${i}`, "v"])) }, "46 tags, 0 aws:defaultTags and the pipeline's own 5 make 51"],
    [{ tags: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, "v".repeat(250)])) }, "at most 2048 bytes as JSON: the tags travel in the Lambda's 4 KB environment"],
    [{ logRetentionDay: 7 }, "batch-pipeline:logRetentionDay = 7: unknown key"],
  ])("%j → %s", (raw, expected) => {
    expect(errorOf(raw as Record<string, unknown>)).toContain(expected);
  });

  it.each([
    ["m7g", true], ["c6gn.2xlarge", true], ["x2gd", true], ["im4gn", true], ["is4gen", true], ["t4g.micro", true], ["a1", true], ["hpc7g", true], ["g5g", true],
    ["optimal", false], ["default_x86_64", false], ["c7i", false], ["m7a.large", false], ["g5", false], ["p4d", false], ["trn1", false], ["m7i-flex", false], ["r7iz", false],
  ])("recognizes %s as arm64: %s", (type, arm) => {
    expect(isArm64InstanceType(type as string)).toBe(arm);
  });

  it("allows Graviton EC2 environments when the start job runs on Fargate", () => {
    const graviton = { instanceTypes: ["m7g", "c7g"] };
    expect(() =>
      parsePipelineConfig({ compute: { spot: graviton, onDemand: graviton, fargate: { enabled: true } }, startQueue: "fargate", orchestrator: { memoryMiB: 2048 } }),
    ).not.toThrow();
  });

  it("refuses Spot and On-Demand of different architectures: they share every EC2 queue", () => {
    expect(errorOf({ compute: { spot: { instanceTypes: ["m7g"] }, fargate: { enabled: true } }, startQueue: "fargate", orchestrator: { memoryMiB: 2048 } })).toContain(
      "batch-pipeline:compute.onDemand.instanceTypes = (unset): are x86_64 but compute.spot.instanceTypes are arm64; both environments serve every EC2 queue",
    );
  });

  it("reports every bad key at once", () => {
    const message = errorOf({ logRetentionDays: 2, compute: { spot: { bidPercentage: 0 } } });
    expect(message).toContain("logRetentionDays = 2");
    expect(message).toContain("compute.spot.bidPercentage = 0");
  });
});

describe("workflow and trigger config", () => {
  it("given no workflow, runs the original shape: prepare → 3 × process → merge", () => {
    const { workflow } = parsePipelineConfig({});
    expect(workflow.steps.map((s) => [s.name, s.width, s.dependsOn.map((d) => d.step)])).toEqual([
      ["prepare", { fixed: 1 }, []],
      ["process", { fixed: 3 }, ["prepare"]],
      ["merge", { fixed: 1 }, ["process"]],
    ]);
  });

  it("given a workflow naming an unknown job definition, fails naming the step", () => {
    expect(errorOf({ workflow: { steps: [{ name: "a", jobDefinition: "gpu" }] } })).toContain(
      "batch-pipeline:workflow: workflow step `a`: jobDefinition `gpu` is not a known job definition key (known: process)",
    );
  });

  it("given a workflow over a user job definition, accepts it", () => {
    const cfg = parsePipelineConfig({
      jobDefinitions: { gpu: { image: "my/image:1.0" } },
      workflow: { steps: [{ name: "train", jobDefinition: "gpu", width: { fixed: 4 } }] },
    });
    expect(cfg.workflow.steps[0]!.jobDefinition).toBe("gpu");
  });

  it.each([
    [{ trigger: { prefix: "" } }, "batch-pipeline:trigger.prefix = \"\": must not be empty"],
    [{ trigger: { prefix: "in/", outputPrefix: "in/out/" } }, "batch-pipeline:trigger.outputPrefix = \"in/out/\": must not overlap trigger.prefix (\"in/\")"],
    [{ trigger: { prefix: "data/in/", outputPrefix: "data/" } }, "must not overlap trigger.prefix"],
    [{ trigger: { outputPrefix: "" } }, 'batch-pipeline:trigger.outputPrefix = "": must not be empty'],
    [{ trigger: { prefix: "/in/" } }, "S3 keys do not start with `/`"],
    [{ trigger: { idempotencyDays: 0 } }, "batch-pipeline:trigger.idempotencyDays = 0"],
    [{ trigger: { maxConcurrency: -1 } }, "batch-pipeline:trigger.maxConcurrency = -1"],
    [{ orchestrator: { image: "repo/orchestrator:latest" } }, "batch-pipeline:orchestrator.image = \"repo/orchestrator:latest\": pin a tag or digest"],
    [{ orchestrator: { memoryMiB: 128 } }, "batch-pipeline:orchestrator.memoryMiB = 128"],
    [{ notifications: { email: "not-an-email" } }, "batch-pipeline:notifications.email = \"not-an-email\""],
  ])("%j → %s", (raw, expected) => {
    expect(errorOf(raw as Record<string, unknown>)).toContain(expected);
  });
});

// S3 user guide, "Configuring event notifications using object key name filtering": special characters
// in a filter's prefix or suffix must be URL-encoded. The accepted set is S3's "safe characters" for keys
// (object key naming guidelines): letters, digits, ! - _ . * ' ( ), plus the / delimiter.
describe("trigger.prefix and trigger.suffix: S3's safe key characters only (notification filters)", () => {
  const SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!-_.*'()/";

  it("given every safe character in the suffix, and all but * (an IAM wildcard) in the prefix, accepts them", () => {
    const cfg = parsePipelineConfig({ trigger: { prefix: `in/${SAFE.replace("*", "")}`, suffix: SAFE } });
    expect(cfg.trigger.prefix).toBe(`in/${SAFE.replace("*", "")}`);
    expect(cfg.trigger.suffix).toBe(SAFE);
  });

  it("given the README's defaults (incoming/, no suffix), accepts them", () => {
    expect(parsePipelineConfig({}).trigger).toMatchObject({ prefix: "incoming/", suffix: "" });
  });

  it.each([
    ["prefix", " ", "space"],
    ["prefix", "+", "plus"],
    ["prefix", "%", "percent"],
    ["prefix", "=", "equals"],
    ["prefix", "é", "a non-ASCII letter"],
    ["suffix", " ", "space"],
    ["suffix", "+", "plus"],
    ["suffix", "%", "percent"],
    ["suffix", "=", "equals"],
    ["suffix", "é", "a non-ASCII letter"],
  ])("given a %s holding %j (%s), refuses it naming the key, the character and the rule", (key, char) => {
    const value = key === "prefix" ? `in${char}coming/` : `${char}.csv`;
    expect(errorOf({ trigger: { [key]: value } })).toContain(
      `batch-pipeline:trigger.${key} = ${JSON.stringify(value)}: holds ${JSON.stringify(char)}, outside S3's safe key characters (A-Z a-z 0-9 ! - _ . * ' ( ) and /); ` +
        "S3 wants other characters of a notification filter URL-encoded in a way it does not document exactly",
    );
  });

  it("names each offending character once, in order", () => {
    expect(errorOf({ trigger: { prefix: "data files/2026+ 数+/" } })).toContain('holds " ", "+", "数", outside');
  });

});

// IAM user guide, "IAM JSON policy elements: Resource" (* and ? are wildcards in an ARN) and "Policy
// variables" (${…}): the prefixes go into the roles' s3 ARNs, so they hold only what IAM reads literally.
describe("trigger.prefix and trigger.outputPrefix: characters IAM ARNs and S3 filters read literally (issue 17)", () => {
  const rule = "trigger.prefix and trigger.outputPrefix go into the roles' s3 ARNs and take A-Z a-z 0-9 ! - _ . ' ( ) and / only";

  it.each([
    ["outputPrefix", "*", "*"],
    ["outputPrefix", "out/*/", "*"],
    ["outputPrefix", "out?/", "?"],
    ["outputPrefix", "out/${aws:username}/", "$|{|:|}"],
    ["outputPrefix", "results and more/", " "],
    ["prefix", "in*/", "*"],
  ])("given %s %j, refuses it naming the key, the value, %j and the rule", (key, value, chars) => {
    expect(errorOf({ trigger: { [key]: value } })).toContain(
      `batch-pipeline:trigger.${key} = ${JSON.stringify(value)}: holds ${chars.split("|").map((c) => JSON.stringify(c)).join(", ")}, which IAM ARNs or S3 filters do not read literally (in an ARN * and ? are wildcards, \${…} a policy variable): ${rule}`,
    );
  });

  it("reports a prefix's character outside S3's safe ones once, as the filter rule does, on the key's one line", () => {
    const message = errorOf({ trigger: { prefix: "in?*/" } });
    expect(message).toContain('batch-pipeline:trigger.prefix = "in?*/": holds "?", outside S3\'s safe key characters');
    expect(message).toContain('safe characters only; holds "*", which IAM ARNs');
    expect(message.match(/holds "\?"/g)).toHaveLength(1);
  });

  it("accepts every literal character in both", () => {
    const literal = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!-_.'()/";
    expect(parsePipelineConfig({ trigger: { prefix: `in/${literal}`, outputPrefix: `out/${literal}` } }).trigger).toMatchObject({ prefix: `in/${literal}`, outputPrefix: `out/${literal}` });
  });
});


describe("rawConfigFromPulumi", () => {
  it("keeps only this project's keys and decodes JSON values", () => {
    expect(
      rawConfigFromPulumi(
        {
          "aws:region": "eu-west-1",
          "batch-pipeline:logRetentionDays": "14",
          "batch-pipeline:startQueue": "high",
          "batch-pipeline:compute": '{"spot":{"maxVcpus":8}}',
        },
        NS,
      ),
    ).toEqual({ logRetentionDays: 14, startQueue: "high", compute: { spot: { maxVcpus: 8 } } });
  });

  it("exposes every top-level key the schema knows", () => {
    expect([...CONFIG_KEYS].sort()).toEqual(
      [
        "compute", "jobDefinitions", "logRetentionDays", "network", "notifications", "orchestrator",
        "permissionsBoundaryArn", "processQueue", "queues", "runnableTimeoutSeconds", "startQueue", "tags", "trigger", "workflow",
      ].sort(),
    );
  });
});
