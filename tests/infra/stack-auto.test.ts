/**
 * The program under mocks with `orchestrator.mode: auto` (tests/support/stacks.ts AUTO_STACK): the trigger submits
 * a plan of at most 20 SubmitJob calls itself and leaves a larger one to a start job, so its role keeps the start
 * queue's grant and gains the start job's DAG grants, and its code is the inline factory's.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { TRIGGER_ENV } from "../../contract";
import { parseTriggerSettings } from "../../functions/settings";
import { type MockedStack, oneOf, type RecordedResource } from "../mocks";
import { deployUnderMocks } from "../support/program";
import { AUTO_STACK } from "../support/stacks";
import { statementsOf } from "./iamAudit";
import { describeIamSimulation } from "./iamSimulation";
import { serializedLambdas } from "./serializedLambdas";

let stack: MockedStack;
let code: () => Promise<string[]>;
const one = (type: string, nameIncludes: string): RecordedResource => oneOf(stack, type, nameIncludes);
const vars = (): Record<string, string> => one("aws:lambda/function:Function", "-trigger-fn").inputs.environment.variables;
const jd = (suffix: string) => one("aws:batch/jobDefinition:JobDefinition", suffix);

beforeAll(async () => {
  code = serializedLambdas();
  stack = await deployUnderMocks(AUTO_STACK);
});
afterAll(() => vi.restoreAllMocks());

describe("orchestrator.mode: auto, the trigger", () => {
  it("is told both targets: the start queue and definition for a large plan, the process queue and definitions for a small one", () => {
    const settings = parseTriggerSettings(vars());
    expect(settings.target).toMatchObject({ jobQueue: one("aws:batch/jobQueue:JobQueue", "-high-queue").state.arn, jobDefinition: jd("-orchestrator-start-jd").state.name });
    expect(settings.inline).toEqual({
      mode: "auto",
      target: {
        jobQueue: one("aws:batch/jobQueue:JobQueue", "-low-queue").state.arn,
        jobDefinitions: { process: jd("-process-jd").state.name, barrier: jd("-barrier-jd").state.name },
        stack: vars()[TRIGGER_ENV.stack],
        tags: {},
        outputRoot: "results/",
      },
    });
  });

  it("may submit to the start queue with the start definition and to the process queue with the process and barrier definitions, and do what the start job does for a DAG", () => {
    const statements = statementsOf(stack)
      .filter((s) => s.policy.endsWith("-trigger-policy"))
      .map((s) => s.statement);
    const [start, process, barrier] = [jd("-orchestrator-start-jd"), jd("-process-jd"), jd("-barrier-jd")].map((d) => d.state.arnPrefix as string);
    const [high, low] = [one("aws:batch/jobQueue:JobQueue", "-high-queue").state.arn, one("aws:batch/jobQueue:JobQueue", "-low-queue").state.arn];
    expect(statements.map((s) => s.Sid)).toEqual(["SubmitToQueue", "TagOnSubmit", "NoRetaggingOtherStacksJobs", "ReadJobs", "TerminateOwnJobs", "TerminateArrayChildren", "Idempotency", "DeadLetter", "OwnLogs"]);
    expect(statements[0]!.Resource).toEqual([high, low, start, process, barrier, `${start}:*`, `${process}:*`, `${barrier}:*`, "arn:aws:batch:eu-west-1:123456789012:job/*"]);
  });

  it("runs the inline factory's code: the planner and the submitter are serialized into the Lambda", async () => {
    const [text, ...others] = await code();
    expect(others).toEqual([]);
    // Pulumi's closure serializer writes each function it serializes as `function /*name*/(`.
    for (const name of ["createInlineStarter", "planWorkflow", "submitPlan"]) expect(text, name).toContain(`/*${name}*/`);
    expect(text).toContain("AUTO_INLINE_MAX_SUBMIT_JOBS");
  });
});

describeIamSimulation("orchestrator.mode auto", () => stack);
