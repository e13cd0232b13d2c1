/**
 * One truth for a job definition: what a local run uses (cli/run/definitions.ts) is what the stack
 * registers for the same config, checked against the program (index.ts) under Pulumi runtime mocks:
 * image, command, vCPUs and memory, the environment (the config's, the output bucket and prefix, the
 * region), the attempt timeout and the retry strategy.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { parsePipelineConfig } from "../../../stack/config";
import { localDefinitions } from "../../../cli/run/definitions";
import { type MockedStack, oneOf, REGION, settle, setupPulumiMocks } from "../../mocks";

const CONFIG = {
  logRetentionDays: 14,
  jobDefinitions: {
    split: { image: "public.ecr.aws/docker/library/busybox:1.37", command: ["sh", "-c", 'echo "$1"', "sh", "Ref::key"], environment: { MODE: "fast", ZONE: "a" }, vcpus: 2, memoryMiB: 4096, timeoutSeconds: 900, retryAttempts: 5 },
    merge: { image: "public.ecr.aws/docker/library/alpine:3.20" },
  },
  workflow: { steps: [{ name: "split", jobDefinition: "split", width: { fixed: 4 } }, { name: "merge", jobDefinition: "merge", dependsOn: ["split"] }] },
};

let stack: MockedStack;

beforeAll(async () => {
  stack = await setupPulumiMocks(CONFIG);
  await import("../../../index.js");
  await settle();
});

describe("local job definitions", () => {
  it.each(["split", "merge"])("%s is what the stack registers", (key) => {
    const jd = oneOf(stack, "aws:batch/jobDefinition:JobDefinition", `-${key}-jd`);
    const props = JSON.parse(jd.inputs.containerProperties);
    const bucket = oneOf(stack, "aws:s3/bucket:Bucket", "-input").state.bucket as string;
    const local = localDefinitions(parsePipelineConfig(CONFIG), { bucket, region: REGION }).get(key)!;
    expect(local.image).toBe(props.image);
    expect(local.command).toEqual(props.command);
    expect(props.resourceRequirements).toEqual([
      { type: "VCPU", value: String(local.vcpus) },
      { type: "MEMORY", value: String(local.memoryMiB) },
    ]);
    const env = Object.entries(local.environment).map(([name, value]) => ({ name, value }));
    expect(env.sort((a, b) => a.name.localeCompare(b.name))).toEqual(props.environment);
    expect(jd.inputs.parameters ?? {}).toEqual(local.parameters);
    expect(jd.inputs.timeout).toEqual({ attemptDurationSeconds: local.timeoutSeconds });
    expect(jd.inputs.retryStrategy).toEqual({ attempts: local.retryStrategy.attempts, evaluateOnExits: local.retryStrategy.evaluateOnExit });
  });
});
