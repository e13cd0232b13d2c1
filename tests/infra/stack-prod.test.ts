/**
 * The program under mocks with the example production stack (Pulumi.prod.yaml): a new VPC, Fargate,
 * a third queue, bigger sizes.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { resourcePrefix } from "../../stack/naming";
import { type MockedStack, ofType, PROJECT, setupPulumiMocks, settle, STACK } from "../mocks";
import { asList, attachedPolicyArns, statementsOf } from "./iamAudit";
import { describeIamSimulation } from "./iamSimulation";
import { prodStack } from "../support/stacks";

let stack: MockedStack;
/** Logical names are `<project>-<stack>-<part>`. */
const PREFIX = resourcePrefix(PROJECT, STACK);

beforeAll(async () => {
  stack = await setupPulumiMocks(prodStack());
  await import("../../index.js");
  await settle();
});

describe("the production example stack", () => {
  it("places compute in the private subnets of a new awsx VPC with a NAT gateway per AZ", () => {
    const [vpc] = ofType(stack, "awsx:ec2:Vpc");
    expect(vpc!.inputs).toMatchObject({ cidrBlock: "10.20.0.0/16", numberOfAvailabilityZones: 3, natGateways: { strategy: "OnePerAz" } });
    for (const env of ofType(stack, "aws:batch/computeEnvironment:ComputeEnvironment")) {
      expect(env.inputs.computeResources.subnets).toEqual(vpc!.state.privateSubnetIds);
    }
  });

  it("adds FARGATE_SPOT then FARGATE environments behind their own queue, never mixed with EC2", () => {
    const envs = ofType(stack, "aws:batch/computeEnvironment:ComputeEnvironment");
    expect(envs.map((e) => e.inputs.computeResources.type).sort()).toEqual(["EC2", "FARGATE", "FARGATE_SPOT", "SPOT"]);
    const arnOf = (suffix: string) => envs.find((e) => e.name === `${PREFIX}${suffix}`)!.state.arn;
    const queue = (name: string) => ofType(stack, "aws:batch/jobQueue:JobQueue", `-${name}-queue`)[0]!;
    expect(queue("fargate").inputs.priority).toBe(50);
    expect(queue("fargate").inputs.computeEnvironmentOrders).toEqual([
      { computeEnvironment: arnOf("-fargate-spot-ce"), order: 0 },
      { computeEnvironment: arnOf("-fargate-ce"), order: 1 },
    ]);
    for (const name of ["critical", "high", "low"]) {
      expect(queue(name).inputs.computeEnvironmentOrders).toEqual([
        { computeEnvironment: arnOf("-spot-ce"), order: 0 },
        { computeEnvironment: arnOf("-ondemand-ce"), order: 1 },
      ]);
    }
    // Fargate environments have no instances: no role, profile or launch template of their own.
    expect(ofType(stack, "aws:ec2/launchTemplate:LaunchTemplate")).toHaveLength(2);
    const fargate = envs.find((e) => e.name === `${PREFIX}-fargate-ce`)!;
    expect(fargate.inputs.computeResources).toEqual({
      type: "FARGATE",
      maxVcpus: 64,
      subnets: expect.any(Array),
      securityGroupIds: [expect.stringMatching(/^sg-/)],
    });
  });

  it("runs the start job on Fargate: in the private subnets without a public IP, pulling only its own image", () => {
    const start = ofType(stack, "aws:batch/jobDefinition:JobDefinition", "-orchestrator-start-jd")[0]!;
    expect(start.inputs.platformCapabilities).toEqual(["FARGATE"]);
    const props = JSON.parse(start.inputs.containerProperties);
    expect(props.networkConfiguration).toEqual({ assignPublicIp: "DISABLED" });
    expect(props.resourceRequirements).toEqual([
      { type: "VCPU", value: "1" },
      { type: "MEMORY", value: "2048" },
    ]);
    const role = ofType(stack, "aws:iam/role:Role", "-orchestrator-start-exec-role")[0]!;
    expect(props.executionRoleArn).toBe(role.state.arn);
    const repo = ofType(stack, "aws:ecr/repository:Repository")[0]!;
    expect(props.image).toMatch(new RegExp(`^${repo.state.repositoryUrl}@sha256:[0-9a-f]{64}$`));
    const policy = JSON.parse(ofType(stack, "aws:iam/rolePolicy:RolePolicy", "-orchestrator-start-exec-policy")[0]!.inputs.policy);
    expect(policy.Statement.find((s: any) => s.Sid === "PullJobImage").Resource).toEqual([repo.state.arn]);
    // ready only once both its execution role and its job role may act
    expect(start.dependsOn).toEqual(expect.arrayContaining([`${PREFIX}-orchestrator-start-exec-policy`, `${PREFIX}-orchestrator-job-policy`]));
    // the trigger submits it to the Fargate queue; the process jobs stay on EC2 Spot
    const fargateQueue = ofType(stack, "aws:batch/jobQueue:JobQueue", "-fargate-queue")[0]!;
    const fn = ofType(stack, "aws:lambda/function:Function", "-trigger-fn")[0]!;
    expect(fn.inputs.environment.variables.START_QUEUE).toBe(fargateQueue.state.arn);
    expect(ofType(stack, "aws:batch/jobDefinition:JobDefinition", "-process-jd")[0]!.inputs.platformCapabilities).toEqual(["EC2"]);
  });

  it("uses the configured Spot bid, instance families and sizes", () => {
    const spot = ofType(stack, "aws:batch/computeEnvironment:ComputeEnvironment", `${PREFIX}-spot-ce`)[0]!.inputs.computeResources;
    expect(spot).toMatchObject({ maxVcpus: 1024, bidPercentage: 80, instanceTypes: ["c7i", "m7i", "r7i", "c6i", "m6i"] });
    const jd = ofType(stack, "aws:batch/jobDefinition:JobDefinition", "-process-jd")[0]!;
    expect(jd.inputs.timeout).toEqual({ attemptDurationSeconds: 7200 });
    expect(JSON.parse(jd.inputs.containerProperties).resourceRequirements).toEqual([
      { type: "VCPU", value: "2" },
      { type: "MEMORY", value: "4096" },
    ]);
    for (const g of ofType(stack, "aws:cloudwatch/logGroup:LogGroup")) expect(g.inputs.retentionInDays).toBe(365);
  });

  it("tags resources with the stack's tags", () => {
    for (const type of ["aws:batch/computeEnvironment:ComputeEnvironment", "aws:batch/jobQueue:JobQueue", "aws:batch/jobDefinition:JobDefinition"]) {
      for (const r of ofType(stack, type)) {
        expect(r.inputs.tags).toMatchObject({ project: "batch-pipeline", environment: "prod", "cost-center": "data-platform" });
      }
    }
  });

  it("hands the stack's tags to the trigger and the orchestrator, so every job of a run carries them", () => {
    const expected = { project: "batch-pipeline", environment: "prod", "cost-center": "data-platform" };
    const fn = ofType(stack, "aws:lambda/function:Function", "-trigger-fn")[0]!;
    expect(JSON.parse(fn.inputs.environment.variables.START_JOB_TAGS)).toEqual(expected);
    const start = ofType(stack, "aws:batch/jobDefinition:JobDefinition", "-orchestrator-start-jd")[0]!;
    const env = Object.fromEntries(JSON.parse(start.inputs.containerProperties).environment.map((e: any) => [e.name, e.value]));
    expect(JSON.parse(env.PIPELINE_JOB_TAGS)).toEqual(expected);
  });

  it("keeps IAM least-privilege: no wildcard actions, no *FullAccess policies", () => {
    const statements = statementsOf(stack);
    for (const { policy, statement } of statements) {
      for (const action of asList(statement.Action)) expect(action, policy).not.toMatch(/^\*$|:\*$/);
    }
    for (const arn of attachedPolicyArns(stack)) expect(arn).not.toMatch(/FullAccess/);
  });
});

describeIamSimulation("Pulumi.prod.yaml", () => stack);
