/**
 * The program under mocks with every process job on Fargate, in the account's default VPC: what a user
 * who sets `compute.fargate.enabled` and `processQueue: fargate` gets from `pulumi preview`.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { type MockedStack, ofType, oneOf, type RecordedResource, setupPulumiMocks, settle } from "../mocks";
import { matchesPattern } from "../support/eventPattern";
import { asList, attachedPolicyArns, statementsOf } from "./iamAudit";
import { describeIamSimulation } from "./iamSimulation";
import { FARGATE_STACK } from "../support/stacks";

let stack: MockedStack;

const one = (type: string, nameIncludes: string): RecordedResource => oneOf(stack, type, nameIncludes);
const propsOf = (r: RecordedResource) => JSON.parse(r.inputs.containerProperties);

beforeAll(async () => {
  stack = await setupPulumiMocks(FARGATE_STACK);
  await import("../../index.js");
  await settle();
});

describe("process jobs on Fargate", () => {
  it("registers the process and barrier definitions for Fargate, sized as Fargate runs them", () => {
    const process = one("aws:batch/jobDefinition:JobDefinition", "-process-jd");
    const barrier = one("aws:batch/jobDefinition:JobDefinition", "-barrier-jd");
    for (const jd of [process, barrier]) expect(jd.inputs.platformCapabilities).toEqual(["FARGATE"]);
    expect(propsOf(process).resourceRequirements).toEqual([
      { type: "VCPU", value: "0.5" },
      { type: "MEMORY", value: "1024" },
    ]);
    expect(propsOf(barrier).resourceRequirements).toEqual([
      { type: "VCPU", value: "0.25" },
      { type: "MEMORY", value: "512" },
    ]);
  });

  it("gives the tasks a public IP in the default VPC's public subnets, which have no NAT to pull images through", () => {
    for (const name of ["-process-jd", "-barrier-jd"]) {
      const props = propsOf(one("aws:batch/jobDefinition:JobDefinition", name));
      expect(props.networkConfiguration).toEqual({ assignPublicIp: "ENABLED" });
      expect(props.fargatePlatformConfiguration).toEqual({ platformVersion: "LATEST" });
    }
  });

  it("gives each Fargate definition an execution role that writes its own logs only (public images need no ECR pull)", () => {
    const process = one("aws:batch/jobDefinition:JobDefinition", "-process-jd");
    const role = one("aws:iam/role:Role", "-process-exec-role");
    expect(propsOf(process).executionRoleArn).toBe(role.state.arn);
    const logs = one("aws:cloudwatch/logGroup:LogGroup", "-process-logs");
    const policy = JSON.parse(one("aws:iam/rolePolicy:RolePolicy", "-process-exec-policy").inputs.policy);
    expect(policy.Statement).toEqual([
      { Sid: "WriteJobLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [`${logs.state.arn}:log-stream:*`] },
    ]);
    // The job role (data access) stays separate from the execution role (pull and logs).
    expect(propsOf(process).jobRoleArn).toBe(one("aws:iam/role:Role", "-process-role").state.arn);
  });

  it("has the start job submit to the Fargate queue, which orders FARGATE_SPOT before FARGATE", () => {
    const queue = one("aws:batch/jobQueue:JobQueue", "-fargate-queue");
    const start = propsOf(one("aws:batch/jobDefinition:JobDefinition", "-orchestrator-start-jd"));
    const env = Object.fromEntries(start.environment.map((e: { name: string; value: string }) => [e.name, e.value]));
    expect(env.PIPELINE_PROCESS_QUEUE).toBe(queue.state.arn);
    const envs = ofType(stack, "aws:batch/computeEnvironment:ComputeEnvironment");
    const arnOf = (suffix: string) => envs.find((e) => e.name.endsWith(suffix))!.state.arn;
    expect(queue.inputs.computeEnvironmentOrders).toEqual([
      { computeEnvironment: arnOf("-fargate-spot-ce"), order: 0 },
      { computeEnvironment: arnOf("-fargate-ce"), order: 1 },
    ]);
    // The start job itself stays on the EC2 `high` queue by default.
    expect(one("aws:batch/jobDefinition:JobDefinition", "-orchestrator-start-jd").inputs.platformCapabilities).toEqual(["EC2"]);
  });

  it("given notifications.arrayChildStates false, logs plain jobs and array parents only", () => {
    const rule = one("aws:cloudwatch/eventRule:EventRule", "-obs-job-states");
    const detail = JSON.parse(rule.inputs.eventPattern).detail;
    expect(detail.jobQueue).toHaveLength(3);
    const pattern = JSON.parse(rule.inputs.eventPattern);
    const event = (extra: Record<string, unknown>) => ({
      source: "aws.batch",
      "detail-type": "Batch Job State Change",
      detail: { jobQueue: detail.jobQueue[2], status: "RUNNING", ...extra },
    });
    expect(matchesPattern(pattern, event({}))).toBe(true);
    expect(matchesPattern(pattern, event({ arrayProperties: { size: 10_000 } }))).toBe(true);
    expect(matchesPattern(pattern, event({ arrayProperties: { index: 9_999 } }))).toBe(false);
  });

  it("keeps IAM least-privilege: no wildcard actions, no *FullAccess policies", () => {
    for (const { policy, statement } of statementsOf(stack)) {
      for (const action of asList(statement.Action)) expect(action, policy).not.toMatch(/^\*$|:\*$/);
    }
    for (const arn of attachedPolicyArns(stack)) expect(arn).not.toMatch(/FullAccess/);
  });
});

describeIamSimulation("Fargate", () => stack);
