/**
 * The program under mocks with `orchestrator.mode: auto` and `orchestrator.wait: true`: a run must have a start job
 * to wait in, so the stack deploys a container-mode trigger (contract/orchestration.ts triggerMode). Its trigger is
 * the container one: no inline variables, no DAG grants, the container factory.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { TRIGGER_ENV } from "../../contract";
import { type MockedStack, oneOf } from "../mocks";
import { deployUnderMocks } from "../support/program";
import { AUTO_STACK } from "../support/stacks";
import { asList, statementsOf } from "./iamAudit";
import { describeIamSimulation } from "./iamSimulation";
import { serializedLambdas } from "./serializedLambdas";

let stack: MockedStack;
let code: () => Promise<string[]>;

beforeAll(async () => {
  code = serializedLambdas();
  stack = await deployUnderMocks({ orchestrator: { ...AUTO_STACK.orchestrator, wait: true } });
});
afterAll(() => vi.restoreAllMocks());

describe("orchestrator.mode: auto with orchestrator.wait, the trigger", () => {
  it("is a container-mode trigger: no inline variables, no ListJobs, DescribeJobs or TerminateJob, no planner in its code", async () => {
    const vars = oneOf(stack, "aws:lambda/function:Function", "-trigger-fn").inputs.environment.variables;
    for (const name of [TRIGGER_ENV.orchestratorMode, TRIGGER_ENV.processQueue, TRIGGER_ENV.jobDefinitions, TRIGGER_ENV.outputRoot]) expect(vars, name).not.toHaveProperty(name);
    const statements = statementsOf(stack)
      .filter((s) => s.policy.endsWith("-trigger-policy"))
      .map((s) => s.statement);
    expect(statements.map((s) => s.Sid)).toEqual(["SubmitToQueue", "TagOnSubmit", "NoRetaggingOtherStacksJobs", "Idempotency", "DeadLetter", "OwnLogs"]);
    expect(statements.flatMap((s) => asList(s.Action)).filter((a) => /^batch:(ListJobs|DescribeJobs|TerminateJob)$/.test(a))).toEqual([]);
    const [text, ...others] = await code();
    expect(others).toEqual([]);
    expect(text).not.toContain("/*planWorkflow*/");
  });
});

describeIamSimulation("orchestrator.mode auto with wait", () => stack);
