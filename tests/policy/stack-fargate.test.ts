/**
 * The policy pack against a stack whose process jobs all run on Fargate in the default VPC (the
 * configuration of tests/infra/stack-fargate.test.ts): every policy passes, execution roles included.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { FARGATE_STACK } from "../support/stacks";
import { loadStack, runPack, type StackResource } from "./support";

let stack: StackResource[];

beforeAll(async () => {
  stack = await loadStack(FARGATE_STACK);
});

describe("the all-Fargate stack", () => {
  it("passes every policy of the pack", async () => {
    const definitions = stack.filter((r) => r.type === "aws:batch/jobDefinition:JobDefinition" && /-(process|barrier)-jd$/.test(r.name));
    expect(definitions.map((d) => d.inputs.platformCapabilities)).toEqual([["FARGATE"], ["FARGATE"]]);
    expect(stack.some((r) => r.type === "aws:iam/role:Role" && r.name.endsWith("-process-exec-role"))).toBe(true);
    expect(await runPack(stack)).toEqual([]);
  });
});
