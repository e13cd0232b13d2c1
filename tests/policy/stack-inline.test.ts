/**
 * The policy pack against `orchestrator.mode: inline` (tests/support/stacks.ts INLINE_STACK): the trigger's role
 * gains the start job's DAG grants (exact Batch actions; `*` only where Batch has no resource type, which the pack
 * allows) and its environment grows. No rule reads a Lambda's role or environment by mode, so none needs to know
 * about the inline trigger: every policy passes as it does for the default stack.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { INLINE_STACK } from "../support/stacks";
import { loadStack, named, runPack, type StackResource } from "./support";

let stack: StackResource[];

beforeAll(async () => {
  stack = await loadStack(INLINE_STACK);
});

describe("the inline orchestration stack", () => {
  it("passes every policy of the pack, the trigger's DAG grants included", async () => {
    const policy = JSON.parse(named(stack, "aws:iam/rolePolicy:RolePolicy", "-trigger-policy").inputs.policy) as { Statement: { Sid: string }[] };
    expect(policy.Statement.map((s) => s.Sid)).toEqual(expect.arrayContaining(["ReadJobs", "TerminateOwnJobs", "TerminateArrayChildren"]));
    expect(await runPack(stack)).toEqual([]);
  });
});
