/** Each component on its own under mocks, with the options the default stack does not exercise. */
import { beforeAll, describe, expect, it } from "vitest";
import { type MockedStack, ofType, setupPulumiMocks, settle, valueOf } from "../mocks";
import { matchesPattern } from "../support/eventPattern";
import { simulate, unknownToAws } from "../support/iam";
import { submitJobCalls, tagContext } from "./iamCalls";

let stack: MockedStack;
let infra: {
  ce: typeof import("../../infra/computeEnvironment");
  jq: typeof import("../../infra/jobQueue");
  jd: typeof import("../../infra/jobDefinition");
  iam: typeof import("../../infra/iam");
  obs: typeof import("../../infra/observability");
  aws: typeof import("@pulumi/aws");
  pulumi: typeof import("@pulumi/pulumi");
};

beforeAll(async () => {
  stack = await setupPulumiMocks();
  infra = {
    ce: await import("../../infra/computeEnvironment.js"),
    jq: await import("../../infra/jobQueue.js"),
    jd: await import("../../infra/jobDefinition.js"),
    iam: await import("../../infra/iam.js"),
    obs: await import("../../infra/observability.js"),
    aws: await import("@pulumi/aws"),
    pulumi: await import("@pulumi/pulumi"),
  };
});

describe("ComputeEnvironment", () => {
  it("given BEST_FIT Spot, creates the Spot Fleet role and depends on its attachment", async () => {
    const env = new infra.ce.ComputeEnvironment("bestfit", {
      kind: "SPOT",
      maxVcpus: 4,
      allocationStrategy: "BEST_FIT",
      vpcId: "vpc-1",
      subnetIds: ["subnet-1"],
    });
    await valueOf(env.arn);
    await settle();
    const ce = ofType(stack, "aws:batch/computeEnvironment:ComputeEnvironment", "bestfit-ce")[0]!;
    const fleetRole = ofType(stack, "aws:iam/role:Role", "bestfit-spot-fleet-role")[0]!;
    expect(ce.inputs.computeResources.spotIamFleetRole).toBe(fleetRole.state.arn);
    expect(ce.dependsOn).toEqual(expect.arrayContaining(["bestfit-instance-ecs", "bestfit-spot-fleet"]));
    // BEST_FIT cannot be updated in place, so no update policy is sent.
    expect(ce.inputs.updatePolicy).toBeUndefined();
  });

  it("given a GovCloud account, attaches the managed policies of that partition", async () => {
    stack.partition = "aws-us-gov";
    try {
      const env = new infra.ce.ComputeEnvironment("gov", { kind: "SPOT", maxVcpus: 4, allocationStrategy: "BEST_FIT", vpcId: "vpc-1", subnetIds: ["subnet-1"] });
      await valueOf(env.arn);
      await settle();
    } finally {
      stack.partition = "aws";
    }
    const attached = ofType(stack, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "gov-").map((a) => a.inputs.policyArn).sort();
    expect(attached).toEqual([
      "arn:aws-us-gov:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role",
      "arn:aws-us-gov:iam::aws:policy/service-role/AmazonEC2SpotFleetTaggingRole",
    ]);
  });

  it("given FARGATE, creates only an egress-only security group", async () => {
    const env = new infra.ce.ComputeEnvironment("fg", { kind: "FARGATE", maxVcpus: 8, vpcId: "vpc-1", subnetIds: ["subnet-1"] });
    await valueOf(env.arn);
    await settle();
    expect(env.instanceRole).toBeUndefined();
    expect(ofType(stack, "aws:iam/role:Role", "fg-")).toHaveLength(0);
    const sg = ofType(stack, "aws:ec2/securityGroup:SecurityGroup", "fg-sg")[0]!;
    expect(sg.inputs.ingress ?? []).toEqual([]);
    expect(sg.inputs.egress).toHaveLength(1);
    const ce = ofType(stack, "aws:batch/computeEnvironment:ComputeEnvironment", "fg-ce")[0]!;
    expect(ce.inputs.updatePolicy).toBeUndefined();
    expect(ce.inputs.computeResources.launchTemplate).toBeUndefined();
  });

  // EC2 CreateLaunchTemplate rejects a TagSpecification whose tag set is empty ("The tags cannot be null
  // or empty", LaunchTemplateTagSpecificationRequest); the stack's tags are {} by default.
  it.each([
    ["untagged", undefined, [{ resourceType: "instance", tags: { Name: "lt-untagged-batch" } }]],
    ["empty-tags", {}, [{ resourceType: "instance", tags: { Name: "lt-empty-tags-batch" } }]],
    [
      "tagged",
      { project: "genomics", environment: "dev" },
      [
        { resourceType: "instance", tags: { project: "genomics", environment: "dev", Name: "lt-tagged-batch" } },
        { resourceType: "volume", tags: { project: "genomics", environment: "dev" } },
      ],
    ],
  ])("given the %s EC2 environment, its launch template sends no empty TagSpecification", async (label, tags, expected) => {
    const env = new infra.ce.ComputeEnvironment(`lt-${label}`, { kind: "SPOT", maxVcpus: 4, vpcId: "vpc-1", subnetIds: ["subnet-1"], ...(tags ? { tags } : {}) });
    await valueOf(env.arn);
    await settle();
    const lt = ofType(stack, "aws:ec2/launchTemplate:LaunchTemplate", `lt-${label}-lt`)[0]!;
    expect(lt.inputs.tagSpecifications).toEqual(expected);
    for (const spec of lt.inputs.tagSpecifications) expect(Object.keys(spec.tags ?? {}).length).toBeGreaterThan(0);
  });

  it("refuses bad arguments before creating anything", () => {
    const before = stack.resources.length;
    expect(
      () => new infra.ce.ComputeEnvironment("bad", { kind: "EC2", maxVcpus: 2, minVcpus: 4, vpcId: "v", subnetIds: [] }),
    ).toThrow("ComputeEnvironment 'bad' has `minVcpus` = 4");
    expect(stack.resources.length).toBe(before);
  });
});

describe("JobQueue", () => {
  it("given fair share, attaches a scheduling policy with the given weights", async () => {
    const q = new infra.jq.JobQueue("fair", {
      priority: 7,
      computeEnvironments: [{ arn: "arn:aws:batch:eu-west-1:123456789012:compute-environment/x", kind: "SPOT" }],
      fairShare: { shareDecaySeconds: 600, computeReservation: 10, shareDistributions: [{ shareIdentifier: "big", weightFactor: 0.5 }] },
    });
    await valueOf(q.arn);
    await settle();
    const policy = ofType(stack, "aws:batch/schedulingPolicy:SchedulingPolicy", "fair-fair-share")[0]!;
    expect(policy.inputs.fairSharePolicy).toEqual({
      shareDecaySeconds: 600,
      computeReservation: 10,
      shareDistributions: [{ shareIdentifier: "big", weightFactor: 0.5 }],
    });
    const queue = ofType(stack, "aws:batch/jobQueue:JobQueue", "fair-queue")[0]!;
    expect(queue.inputs.schedulingPolicyArn).toBe(policy.state.arn);
    expect(queue.inputs.jobStateTimeLimitActions).toBeUndefined();
  });
});

describe("ContainerJobDefinition", () => {
  it("given Fargate and a public image, creates an execution role that may only write this definition's logs", async () => {
    const def = new infra.jd.ContainerJobDefinition("small", {
      image: "busybox:1.37",
      platform: "FARGATE",
      vcpus: 0.25,
      memoryMiB: 512,
      assignPublicIp: true,
      environment: { MODE: "fast" },
      parameters: { input: "none" },
      logRetentionDays: 7,
    });
    await valueOf(def.arnPrefix);
    await settle();
    const role = ofType(stack, "aws:iam/role:Role", "small-exec-role")[0]!;
    expect(JSON.parse(role.inputs.assumeRolePolicy).Statement[0].Principal).toEqual({ Service: "ecs-tasks.amazonaws.com" });
    const policy = JSON.parse(ofType(stack, "aws:iam/rolePolicy:RolePolicy", "small-exec-policy")[0]!.inputs.policy);
    const logs = ofType(stack, "aws:cloudwatch/logGroup:LogGroup", "small-logs")[0]!;
    expect(policy.Statement).toEqual([
      {
        Sid: "WriteJobLogs",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: [`${logs.state.arn}:log-stream:*`],
      },
    ]);
    const jd = ofType(stack, "aws:batch/jobDefinition:JobDefinition", "small-jd")[0]!;
    expect(jd.inputs.platformCapabilities).toEqual(["FARGATE"]);
    expect(jd.inputs.parameters).toEqual({ input: "none" });
    const props = JSON.parse(jd.inputs.containerProperties);
    expect(props.executionRoleArn).toBe(role.state.arn);
    expect(props.networkConfiguration).toEqual({ assignPublicIp: "ENABLED" });
    expect(props.environment).toEqual([
      { name: "AWS_DEFAULT_REGION", value: "eu-west-1" },
      { name: "AWS_REGION", value: "eu-west-1" },
      { name: "MODE", value: "fast" },
    ]);
  });
});

describe("ContainerJobDefinition dependencies", () => {
  it.each([
    ["a list", (r: any) => [r]],
    ["one resource", (r: any) => r],
    ["an output of a list", (r: any) => infra.pulumi.output([r])],
  ])("given dependsOn as %s, the definition waits for it and for its execution policy", async (label, wrap) => {
    const name = `deps-${label.replace(/\s+/g, "-")}`;
    const before = new infra.aws.sqs.Queue(`${name}-first`);
    const def = new infra.jd.ContainerJobDefinition(
      name,
      { image: "busybox:1.37", platform: "FARGATE", vcpus: 0.25, memoryMiB: 512, logRetentionDays: 7 },
      { dependsOn: wrap(before) },
    );
    await valueOf(def.arnPrefix);
    await settle();
    const jd = ofType(stack, "aws:batch/jobDefinition:JobDefinition", `${name}-jd`)[0]!;
    expect(jd.dependsOn).toEqual(expect.arrayContaining([`${name}-first`, `${name}-exec-policy`]));
  });
});

// AWS Batch user guide, "Job state change events": an event is created when an existing job changes
// state; "Events aren't created for the initial job submission", so no event ever says SUBMITTED.
describe("Observability: the job-state rule", () => {
  const QUEUE = "arn:aws:batch:eu-west-1:123456789012:job-queue/obs-low";
  const event = (status: string) => ({ source: "aws.batch", "detail-type": "Batch Job State Change", detail: { jobQueue: QUEUE, status } });

  it("lists every state a job state change event reports, and not SUBMITTED (no event is sent for it)", () => {
    expect([...infra.obs.JOB_STATES]).toEqual(["PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED"]);
  });

  it("matches the first event of a job (PENDING or RUNNABLE) through SUCCEEDED and FAILED, and names no SUBMITTED state", async () => {
    const obs = new infra.obs.Observability("obs", { queueArns: [QUEUE], logRetentionDays: 7 });
    await valueOf(obs.stateLog.arn);
    await settle();
    const rule = ofType(stack, "aws:cloudwatch/eventRule:EventRule", "obs-job-states")[0]!;
    const pattern = JSON.parse(rule.inputs.eventPattern);
    expect(pattern.detail.status).not.toContain("SUBMITTED");
    for (const status of ["PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED"]) {
      expect(matchesPattern(pattern, event(status))).toBe(true);
    }
  });
});

describe("grantSubmitJob", () => {
  it("lets the role submit with tags to exactly one queue and one job definition (any revision), as AWS authorizes it", async () => {
    const role = new infra.aws.iam.Role("submitter", { assumeRolePolicy: infra.iam.assumeRolePolicy("lambda.amazonaws.com") });
    const queue = { arn: "arn:aws:batch:eu-west-1:123456789012:job-queue/start" };
    const definition = { arnPrefix: "arn:aws:batch:eu-west-1:123456789012:job-definition/start" };
    const grant = infra.iam.grantSubmitJob("submitter-grant", role, queue, definition, { keys: ["team", "pipeline:run-id", "pipeline:stack"], stack: "s1" });
    await valueOf(grant.id);
    await settle();
    const recorded = ofType(stack, "aws:iam/rolePolicy:RolePolicy", "submitter-grant")[0]!;
    expect(recorded.inputs.role).toBe(ofType(stack, "aws:iam/role:Role", "submitter")[0]!.state.name);
    const policies = { grant: JSON.parse(recorded.inputs.policy) };
    const principal = "arn:aws:sts::123456789012:assumed-role/submitter/s";
    const outcome = async (request: { action: string; resource: string; context?: Record<string, string | string[]> }) =>
      (await simulate(principal, "123456789012", policies, { ...request, why: "test" })).result;
    const tags = { team: "data", "pipeline:run-id": "r", "pipeline:stack": "s1" };
    // AWS evaluates SubmitJob on the queue, the definition revision and the new job; with tags, TagResource on the same.
    for (const call of submitJobCalls(queue.arn, definition.arnPrefix, tags, "test")) expect(await outcome(call), `${call.action} ${call.resource}`).toBe("Allowed");
    for (const call of submitJobCalls("arn:aws:batch:eu-west-1:123456789012:job-queue/other", definition.arnPrefix, tags, "test").filter((c) => c.resource.includes("job-queue"))) {
      expect(await outcome(call)).toBe("ImplicitlyDenied");
    }
    expect(await outcome({ action: "batch:SubmitJob", resource: "arn:aws:batch:eu-west-1:123456789012:job-definition/other:1" })).toBe("ImplicitlyDenied");
    // A key the pipeline does not send (aws:TagKeys) is refused.
    expect(await outcome({ action: "batch:TagResource", resource: "arn:aws:batch:eu-west-1:123456789012:job/1", context: tagContext({ ...tags, owner: "x" }) })).toBe("ImplicitlyDenied");
    // Tags for another stack's id are refused, so are jobs another stack tagged.
    expect(await outcome({ action: "batch:TagResource", resource: "arn:aws:batch:eu-west-1:123456789012:job/1", context: tagContext({ ...tags, "pipeline:stack": "s2" }) })).toBe("ImplicitlyDenied");
    expect(
      await outcome({ action: "batch:TagResource", resource: "arn:aws:batch:eu-west-1:123456789012:job/1", context: { ...tagContext(tags), "aws:ResourceTag/pipeline:stack": "s2" } }),
    ).toBe("ExplicitlyDenied");
    expect(await unknownToAws(policies.grant.Statement)).toEqual([]);
  });

  it.each([
    [{ Effect: "Allow", Action: ["batch:*"], Resource: ["*"] }, "IAM statement (no Sid) grants batch:*; name each action instead"],
    [{ Sid: "All", Effect: "Allow", Action: "*", Resource: ["*"] }, "IAM statement All grants *"],
    [{ Sid: "Not", Effect: "Allow", NotAction: ["iam:*"], Resource: ["*"] }, "IAM statement Not grants NotAction"],
  ])("renderPolicy refuses %j", (statement, message) => {
    expect(() => infra.iam.renderPolicy([statement as any])).toThrow(message);
  });

  it("renderPolicy lets Deny statements be broad", () => {
    const deny = { Effect: "Deny" as const, Principal: "*", Action: ["s3:*"], Resource: ["arn:aws:s3:::b"] };
    expect(JSON.parse(infra.iam.renderPolicy([deny])).Statement).toEqual([deny]);
  });

  it("renderPolicy renders scoped statements as a 2012-10-17 document", () => {
    const statement = { Effect: "Allow" as const, Action: ["s3:GetObject"], Resource: ["arn:aws:s3:::b/*"] };
    expect(JSON.parse(infra.iam.renderPolicy([statement]))).toEqual({ Version: "2012-10-17", Statement: [statement] });
  });
});
