import { describe, expect, it } from "vitest";
import { ComputeEnvironmentArgsError, launchTemplateTagSpecifications, resolveComputeEnvironmentArgs } from "../../infra/computeEnvironment";
import { WildcardActionError, wildcardActions } from "../../infra/iam";
import {
  containerProperties,
  DEFAULT_EVALUATE_ON_EXIT,
  executionRoleStatements,
  JobDefinitionArgsError,
  resolveJobDefinitionArgs,
} from "../../infra/jobDefinition";
import { JobQueueArgsError, validateJobQueueArgs } from "../../infra/jobQueue";
import { TriggerArgsError, validateTriggerDelivery } from "../../infra/trigger";

const placement = { vpcId: "vpc-1", subnetIds: ["subnet-1"] };

describe("ComputeEnvironment defaults", () => {
  it("given a SPOT environment, defaults to optimal instances, price-capacity-optimized, 100% bid, scale to zero", () => {
    expect(resolveComputeEnvironmentArgs("spot", { kind: "SPOT", maxVcpus: 8, ...placement })).toMatchObject({
      minVcpus: 0,
      instanceTypes: ["optimal"],
      allocationStrategy: "SPOT_PRICE_CAPACITY_OPTIMIZED",
      bidPercentage: 100,
      rootVolumeGiB: 30,
      updateTimeoutMinutes: 30,
    });
  });
  it("given an EC2 environment, defaults to BEST_FIT_PROGRESSIVE", () => {
    expect(resolveComputeEnvironmentArgs("od", { kind: "EC2", maxVcpus: 8, ...placement }).allocationStrategy).toBe(
      "BEST_FIT_PROGRESSIVE",
    );
  });
});

describe("ComputeEnvironment validation", () => {
  it.each([
    [{ kind: "SPOT", maxVcpus: 0 }, "ComputeEnvironment 'ce' has `maxVcpus` = 0; maxVcpus must be a whole number of at least 1"],
    [{ kind: "SPOT", maxVcpus: 4, minVcpus: 8 }, "ComputeEnvironment 'ce' has `minVcpus` = 8; minVcpus cannot exceed maxVcpus (4)"],
    [{ kind: "SPOT", maxVcpus: 4, minVcpus: -1 }, "`minVcpus` = -1"],
    [{ kind: "EC2", maxVcpus: 4, allocationStrategy: "SPOT_CAPACITY_OPTIMIZED" }, "`allocationStrategy` = \"SPOT_CAPACITY_OPTIMIZED\"; EC2 environments allow BEST_FIT_PROGRESSIVE, BEST_FIT"],
    [{ kind: "EC2", maxVcpus: 4, bidPercentage: 50 }, "`bidPercentage` = 50; only SPOT environments take a bid percentage"],
    [{ kind: "SPOT", maxVcpus: 4, bidPercentage: 0 }, "`bidPercentage` = 0; bidPercentage must be a whole number from 1 to 100"],
    [{ kind: "SPOT", maxVcpus: 4, instanceTypes: [] }, "`instanceTypes` = []"],
    [{ kind: "SPOT", maxVcpus: 4, rootVolumeGiB: 8 }, "`rootVolumeGiB` = 8; the ECS-optimized AMI needs at least 30 GiB"],
    [{ kind: "FARGATE", maxVcpus: 4, minVcpus: 2 }, "`minVcpus` = 2; Fargate environments have no minimum"],
    [{ kind: "FARGATE_SPOT", maxVcpus: 4, instanceTypes: ["optimal"] }, "`instanceTypes` = [\"optimal\"]; Fargate environments take no instance types"],
    [{ kind: "FARGATE", maxVcpus: 4, allocationStrategy: "BEST_FIT" }, "Fargate environments take no allocation strategy"],
    [{ kind: "FARGATE_SPOT", maxVcpus: 4, bidPercentage: 40 }, "only SPOT environments take a bid percentage"],
  ])("%j → %s", (args, message) => {
    const run = () => resolveComputeEnvironmentArgs("ce", { ...placement, ...(args as any) });
    expect(run).toThrow(ComputeEnvironmentArgsError);
    expect(run).toThrow(message);
  });
});

// EC2 CreateLaunchTemplate (LaunchTemplateTagSpecificationRequest) rejects an empty tag set: "The tags
// cannot be null or empty".
describe("launchTemplateTagSpecifications", () => {
  it.each([
    ["no stack tags (the default)", {}, [{ resourceType: "instance", tags: { Name: "spot-batch" } }]],
    [
      "one stack tag",
      { project: "p" },
      [
        { resourceType: "instance", tags: { project: "p", Name: "spot-batch" } },
        { resourceType: "volume", tags: { project: "p" } },
      ],
    ],
    ["only a tag with an empty value", { owner: "" }, [{ resourceType: "instance", tags: { Name: "spot-batch" } }]],
  ])("given %s, tags instances always and volumes only with tags: never an empty TagSpecification or tag value", (_label, tags, expected) => {
    const specifications = launchTemplateTagSpecifications("spot", tags);
    expect(specifications).toEqual(expected);
    for (const s of specifications) {
      expect(Object.keys(s.tags).length).toBeGreaterThan(0);
      expect(Object.values(s.tags)).not.toContain("");
    }
  });
});

describe("JobQueue validation", () => {
  const spot = { arn: "arn:spot", kind: "SPOT" as const };
  const od = { arn: "arn:od", kind: "EC2" as const };
  const fargate = { arn: "arn:f", kind: "FARGATE" as const };
  it("given Spot then On-Demand, accepts", () => {
    expect(() => validateJobQueueArgs("q", { priority: 10, computeEnvironments: [spot, od], runnableTimeoutSeconds: 600 })).not.toThrow();
  });
  it.each([
    [{ priority: -1, computeEnvironments: [spot] }, "JobQueue 'q' has `priority` = -1; priority must be a whole number from 0 to 1000"],
    [{ priority: 1, computeEnvironments: [] }, "`computeEnvironments` = []; a queue takes 1 to 3 compute environments"],
    [{ priority: 1, computeEnvironments: [spot, od, spot, od] }, "a queue takes 1 to 3 compute environments"],
    [{ priority: 1, computeEnvironments: [spot, fargate] }, "`computeEnvironments` = [\"SPOT\",\"FARGATE\"]; a queue cannot mix Fargate and EC2 environments"],
    [{ priority: 1, computeEnvironments: [spot], runnableTimeoutSeconds: 599 }, "`runnableTimeoutSeconds` = 599; Batch accepts 600 to 86400 seconds"],
    [{ priority: 1, computeEnvironments: [spot], runnableTimeoutSeconds: 86_401 }, "Batch accepts 600 to 86400 seconds"],
    [{ priority: 1, computeEnvironments: [spot], fairShare: { computeReservation: 100 } }, "`fairShare.computeReservation` = 100; must be from 0 to 99"],
  ])("%j → %s", (args, message) => {
    const run = () => validateJobQueueArgs("q", args as any);
    expect(run).toThrow(JobQueueArgsError);
    expect(run).toThrow(message);
  });
});

describe("ContainerJobDefinition defaults and validation", () => {
  it("given only an image, retries Spot reclamation 3 times, exits on the rest, times out after an hour", () => {
    const a = resolveJobDefinitionArgs("jd", { image: "busybox:1.37", logRetentionDays: 7 });
    expect(a).toMatchObject({ vcpus: 1, memoryMiB: 2048, platform: "EC2", retryAttempts: 3, timeoutSeconds: 3600, propagateTags: true });
    expect(a.evaluateOnExit).toEqual([
      { onStatusReason: "Host EC2*", action: "RETRY" },
      { onStatusReason: "Your Spot Task was interrupted*", action: "RETRY" },
      { onReason: "*", action: "EXIT" },
    ]);
  });
  it.each([
    [{ vcpus: 0 }, "ContainerJobDefinition 'jd' has `vcpus` = 0; vcpus must be greater than 0"],
    [{ vcpus: 0.5 }, "`vcpus` = 0.5; EC2 jobs take whole vCPUs"],
    [{ memoryMiB: 2 }, "`memoryMiB` = 2; memoryMiB must be a whole number of at least 4"],
    [{ platform: "FARGATE", vcpus: 3 }, "`vcpus` = 3; Fargate accepts 0.25, 0.5, 1, 2, 4, 8, 16 vCPUs"],
    [{ platform: "FARGATE", vcpus: 1, memoryMiB: 1024 }, "`memoryMiB` = 1024; Fargate with 1 vCPU accepts 2048 to 8192 MiB in steps of 1024"],
    [{ platform: "FARGATE", vcpus: 1, memoryMiB: 2500 }, "steps of 1024"],
    [{ platform: "FARGATE", vcpus: 0.25, memoryMiB: 1536 }, "`memoryMiB` = 1536; Fargate with 0.25 vCPU accepts 512, 1024 or 2048 MiB"],
    [{ gpus: 1, platform: "FARGATE", vcpus: 1, memoryMiB: 2048 }, "`gpus` = 1; GPU is not applicable to jobs on Fargate resources"],
    [{ ephemeralStorageGiB: 30 }, "`ephemeralStorageGiB` = 30; applies to Fargate only"],
    [{ platform: "FARGATE", vcpus: 1, memoryMiB: 2048, ephemeralStorageGiB: 201 }, "`ephemeralStorageGiB` = 201; Batch accepts 21 to 200 GiB"],
    [{ volumes: [{ name: "data", host: { sourcePath: "/data" } }], mountPoints: [{ sourceVolume: "dta", containerPath: "/data" }] }, "`mountPoints[0].sourceVolume` = \"dta\"; must name a volume of this definition (volumes: data)"],
    [{ assignPublicIp: true }, "only Fargate job definitions assign public IPs"],
    [{ retryAttempts: 11 }, "`retryAttempts` = 11; Batch accepts 1 to 10 attempts"],
    [{ retryAttempts: 0 }, "`retryAttempts` = 0"],
    [{ evaluateOnExit: Array(6).fill({ onReason: "*", action: "EXIT" }) }, "`evaluateOnExit` = 6; Batch accepts at most 5 rules"],
    [{ evaluateOnExit: [{ onStatusReason: "*Host", action: "RETRY" }, { onReason: "*", action: "EXIT" }] }, "`evaluateOnExit[0].onStatusReason` = \"*Host\"; patterns may only end with `*`"],
    [{ evaluateOnExit: [{ onStatusReason: "Host EC2*", action: "RETRY" }] }, "end with a catch-all rule"],
    [{ timeoutSeconds: 30 }, "`timeoutSeconds` = 30; Batch's minimum is 60 seconds"],
  ])("%j → %s", (args, message) => {
    const run = () => resolveJobDefinitionArgs("jd", { image: "busybox:1.37", logRetentionDays: 7, ...(args as any) });
    expect(run).toThrow(JobDefinitionArgsError);
    expect(run).toThrow(message);
  });
  it("given valid Fargate sizes, accepts them", () => {
    for (const [vcpus, memoryMiB] of [[0.25, 512], [0.5, 4096], [4, 30720], [16, 122880]] as const) {
      expect(() => resolveJobDefinitionArgs("jd", { image: "i:1", logRetentionDays: 7, platform: "FARGATE", vcpus, memoryMiB })).not.toThrow();
    }
  });
  it.each([
    ["123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/orchestrator@sha256:" + "a".repeat(64), "arn:aws:ecr:eu-west-1:123456789012:repository/team/orchestrator"],
    ["210987654321.dkr.ecr.us-east-1.amazonaws.com/jobs:1.2.3", "arn:aws:ecr:us-east-1:210987654321:repository/jobs"],
    ["210987654321.dkr.ecr-fips.us-east-1.amazonaws.com/jobs:1.2.3", "arn:aws:ecr:us-east-1:210987654321:repository/jobs"],
    ["210987654321.dkr-ecr.us-east-1.on.aws/team/jobs@sha256:" + "b".repeat(64), "arn:aws:ecr:us-east-1:210987654321:repository/team/jobs"],
  ])("a Fargate execution role pulls the private ECR image %s from that repository only", (image, repositoryArn) => {
    const statements = executionRoleStatements("arn:aws:logs:eu-west-1:123456789012:log-group:/aws/batch/x", image, "aws");
    expect(statements).toEqual([
      { Sid: "WriteJobLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: ["arn:aws:logs:eu-west-1:123456789012:log-group:/aws/batch/x:log-stream:*"] },
      { Sid: "EcrLogin", Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: ["*"] },
      { Sid: "PullJobImage", Effect: "Allow", Action: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], Resource: [repositoryArn] },
    ]);
  });
  it.each(["public.ecr.aws/docker/library/busybox:1.37", "busybox:1.37", "ghcr.io/acme/tool:2"])(
    "a Fargate execution role for the public image %s only writes logs",
    (image) => {
      expect(executionRoleStatements("arn:aws:logs:r:1:log-group:g", image, "aws").map((s) => s.Sid)).toEqual(["WriteJobLogs"]);
    },
  );
  it("the default retry rules are the documented Spot pattern", () => {
    expect(DEFAULT_EVALUATE_ON_EXIT.at(-1)).toEqual({ onReason: "*", action: "EXIT" });
  });
});

describe("containerProperties", () => {
  const base = {
    image: "busybox:1.37",
    vcpus: 2,
    memoryMiB: 4096,
    logGroupName: "/aws/batch/p-s/process",
    region: "eu-west-1",
    streamPrefix: "process",
    assignPublicIp: false,
  };
  it("given an EC2 job, sets resources, sorted environment and awslogs, and no Fargate fields", () => {
    const p = containerProperties({ ...base, platform: "EC2", command: ["echo", "hi"], environment: { B: "2", A: "1" }, jobRoleArn: "arn:job" });
    expect(p).toEqual({
      image: "busybox:1.37",
      command: ["echo", "hi"],
      resourceRequirements: [
        { type: "VCPU", value: "2" },
        { type: "MEMORY", value: "4096" },
      ],
      environment: [
        { name: "A", value: "1" },
        { name: "AWS_DEFAULT_REGION", value: "eu-west-1" },
        { name: "AWS_REGION", value: "eu-west-1" },
        { name: "B", value: "2" },
      ],
      volumes: undefined,
      mountPoints: undefined,
      jobRoleArn: "arn:job",
      executionRoleArn: undefined,
      logConfiguration: {
        logDriver: "awslogs",
        options: { "awslogs-group": "/aws/batch/p-s/process", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "process" },
      },
    });
  });
  it("given a Fargate job, pins the platform version and sets the public IP choice", () => {
    const p = containerProperties({ ...base, vcpus: 1, memoryMiB: 2048, platform: "FARGATE", assignPublicIp: true, executionRoleArn: "arn:exec" });
    expect(p.fargatePlatformConfiguration).toEqual({ platformVersion: "LATEST" });
    expect(p.networkConfiguration).toEqual({ assignPublicIp: "ENABLED" });
    expect(p.executionRoleArn).toBe("arn:exec");
  });
  it("passes volumes and mount points through", () => {
    const p = containerProperties({
      ...base,
      platform: "EC2",
      volumes: [{ name: "scratch", host: { sourcePath: "/scratch" } }],
      mountPoints: [{ sourceVolume: "scratch", containerPath: "/data", readOnly: false }],
    });
    expect(p.volumes).toEqual([{ name: "scratch", host: { sourcePath: "/scratch" } }]);
    expect(p.mountPoints).toEqual([{ sourceVolume: "scratch", containerPath: "/data", readOnly: false }]);
  });
});

describe("wildcardActions", () => {
  it.each([
    [["*"], ["*"]],
    [["batch:*"], ["batch:*"]],
    [["batch:SubmitJob", "s3:GetObject"], []],
    [["s3:Get*"], []],
  ])("%j → %j", (actions, expected) => {
    expect(wildcardActions(actions)).toEqual(expected);
  });
  it("has a named error for policies that would use one", () => {
    expect(new WildcardActionError("x").name).toBe("WildcardActionError");
  });
});

// Lambda API reference, "ScalingConfig" (MaximumConcurrency 2 to 1,000); Lambda developer guide, "Configuring scaling
// behavior for SQS event source mappings" (reserved concurrency at least the mapping's maximum concurrency).
describe("Trigger delivery validation", () => {
  it.each([
    [{ kind: "queue", maxConcurrency: 1 }, 10, "Trigger 't' has `queueMaxConcurrency` = 1; Lambda accepts a maximum concurrency from 2 to 1000 for an SQS event source mapping"],
    [{ kind: "queue", maxConcurrency: 11 }, 10, "Trigger 't' has `queueMaxConcurrency` = 11; the event source mapping's maximum concurrency may not exceed the function's reserved concurrency"],
  ] as const)("%j with reserved concurrency %s → %s", (delivery, reserved, message) => {
    const run = () => validateTriggerDelivery("t", delivery, reserved);
    expect(run).toThrow(TriggerArgsError);
    expect(run).toThrow(message);
  });

  it.each([
    [{ kind: "queue", maxConcurrency: 10 }, 10],
    [{ kind: "queue", maxConcurrency: 1000 }, undefined],
    [{ kind: "async" }, 1],
  ] as const)("accepts %j with reserved concurrency %s", (delivery, reserved) => {
    expect(() => validateTriggerDelivery("t", delivery, reserved)).not.toThrow();
  });
});
