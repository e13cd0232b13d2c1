/**
 * The program under mocks with the longest names a user can give it: a stack name that fills the
 * 28-character resource prefix, a 32-character job definition key, and every option that adds
 * resources (Fargate for both queues). Every physical name must fit its AWS limit, or `pulumi up` fails
 * after `pulumi preview` looked fine.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { MAX_PREFIX_CHARS, resourcePrefix } from "../../stack/naming";
import { type MockedStack, PROJECT, setupPulumiMocks, settle } from "../mocks";

const STACK_NAME = "production-europe-west-1-blue";
const LONG_KEY = "a-very-long-job-definition-key-x";

/** AWS's name limits for the resource types this program autonames. */
const NAME_LIMITS: Record<string, number> = {
  "aws:iam/role:Role": 64,
  "aws:iam/instanceProfile:InstanceProfile": 128,
  "aws:iam/rolePolicy:RolePolicy": 128,
  "aws:lambda/function:Function": 64,
  "aws:cloudwatch/eventRule:EventRule": 64,
  "aws:s3/bucket:Bucket": 63,
  "aws:s3/bucketV2:BucketV2": 63,
  "aws:sqs/queue:Queue": 80,
  "aws:sns/topic:Topic": 256,
  "aws:dynamodb/table:Table": 255,
  "aws:ecr/repository:Repository": 256,
  "aws:batch/computeEnvironment:ComputeEnvironment": 128,
  "aws:batch/jobQueue:JobQueue": 128,
  "aws:batch/jobDefinition:JobDefinition": 128,
  "aws:ec2/launchTemplate:LaunchTemplate": 128,
  "aws:ec2/securityGroup:SecurityGroup": 255,
  "aws:cloudwatch/logGroup:LogGroup": 512,
  "aws:cloudwatch/metricAlarm:MetricAlarm": 255,
};
/** Pulumi's autonaming appends `-` and 7 random characters to the logical name. */
const AUTONAME_CHARS = 8;

let stack: MockedStack;

beforeAll(async () => {
  stack = await setupPulumiMocks(
    {
      compute: { fargate: { enabled: true } },
      startQueue: "fargate",
      processQueue: "fargate",
      orchestrator: { memoryMiB: 2048 },
      jobDefinitions: {
        process: { image: "public.ecr.aws/docker/library/busybox:1.37", command: ["echo", "hello world"] },
        [LONG_KEY]: { image: "public.ecr.aws/docker/library/busybox:1.37" },
      },
    },
    { stack: STACK_NAME },
  );
  await import("../../index.js");
  await settle();
});

describe("names at their longest", () => {
  it("uses a prefix of the full 28 characters", () => {
    expect(resourcePrefix(PROJECT, STACK_NAME)).toHaveLength(MAX_PREFIX_CHARS);
    expect(stack.resources.filter((r) => r.name.includes(LONG_KEY)).length).toBeGreaterThan(0);
  });

  it("gives every named resource a physical name within its AWS limit", () => {
    const tooLong: string[] = [];
    let checked = 0;
    for (const r of stack.resources) {
      const limit = NAME_LIMITS[r.type];
      if (limit === undefined) continue;
      checked++;
      if (r.inputs.namePrefix !== undefined) {
        // The provider appends 26 unique characters to a prefix.
        if (r.inputs.namePrefix.length + 26 > limit) tooLong.push(`${r.type} ${r.name}: namePrefix ${r.inputs.namePrefix}`);
        continue;
      }
      const physical: string = r.inputs.name ?? r.inputs.bucket ?? `${r.name}-${"x".repeat(AUTONAME_CHARS - 1)}`;
      if (physical.length > limit) tooLong.push(`${r.type} ${r.name}: ${physical.length} > ${limit}`);
    }
    expect(checked).toBeGreaterThan(40);
    expect(tooLong).toEqual([]);
  });

  it("never gives two resources of a type the same fixed name (AWS would refuse the second)", () => {
    const seen = new Map<string, string>();
    const clashes: string[] = [];
    for (const r of stack.resources) {
      for (const field of ["name", "policyName", "bucket"]) {
        const fixed = r.inputs[field];
        if (typeof fixed !== "string") continue;
        const key = `${r.type} ${field}=${fixed}`;
        if (seen.has(key)) clashes.push(`${key}: ${seen.get(key)} and ${r.name}`);
        seen.set(key, r.name);
      }
    }
    expect(seen.size).toBeGreaterThan(5);
    expect(clashes).toEqual([]);
  });

  it("keeps the long Fargate definition's execution role under IAM's limit with a provider-made unique name", () => {
    const role = stack.resources.find((r) => r.type === "aws:iam/role:Role" && r.name.endsWith(`-${LONG_KEY}-exec-role`))!;
    expect(role.inputs.namePrefix).toMatch(/^[a-z0-9-]{1,37}-$/);
  });
});
