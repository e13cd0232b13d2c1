/**
 * The program under mocks with `orchestrator.mode: inline` (tests/support/stacks.ts INLINE_STACK): the trigger
 * Lambda plans each run and submits its DAG itself (functions/inline.ts), so its environment names the process
 * queue, the job definitions and the output root, its role may do what the start job's does for a DAG and nothing
 * with the start queue, and its code is the inline factory's (the planner and the submitter serialized with it).
 */
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { decodeJobDefinitions, START_JOB_ENV, TRIGGER_ENV } from "../../contract";
import { parseTriggerSettings } from "../../functions/settings";
import { environmentBytes, LAMBDA_ENVIRONMENT_MAX_BYTES, TriggerArgsError, withinEnvironmentLimit } from "../../infra/trigger";
import { type MockedStack, oneOf, type RecordedResource } from "../mocks";
import { deployUnderMocks } from "../support/program";
import { INLINE_STACK } from "../support/stacks";
import { statementsOf } from "./iamAudit";
import { describeIamSimulation } from "./iamSimulation";
import { serializedLambdas } from "./serializedLambdas";

let stack: MockedStack;
let code: () => Promise<string[]>;
const one = (type: string, nameIncludes: string): RecordedResource => oneOf(stack, type, nameIncludes);
const fn = () => one("aws:lambda/function:Function", "-trigger-fn");
const vars = (): Record<string, string> => fn().inputs.environment.variables;
const jd = (suffix: string) => one("aws:batch/jobDefinition:JobDefinition", suffix);
const policyOf = (suffix: string) => statementsOf(stack).filter((s) => s.policy.endsWith(suffix)).map((s) => s.statement);

beforeAll(async () => {
  code = serializedLambdas();
  stack = await deployUnderMocks(INLINE_STACK);
});
afterAll(() => vi.restoreAllMocks());

describe("orchestrator.mode: inline, the trigger's environment", () => {
  it("tells the handler the mode, the process queue, the job definitions' names (the start job's very names) and the output root", () => {
    const v = vars();
    expect(v[TRIGGER_ENV.orchestratorMode]).toBe("inline");
    expect(v[TRIGGER_ENV.processQueue]).toBe(one("aws:batch/jobQueue:JobQueue", "-low-queue").state.arn);
    expect(JSON.parse(v[TRIGGER_ENV.jobDefinitions]!)).toEqual({ process: jd("-process-jd").state.name, barrier: jd("-barrier-jd").state.name });
    expect(v[TRIGGER_ENV.outputRoot]).toBe("results/");
    // The same names the start job reads, so a run planned by either submits the same definitions.
    const start = Object.fromEntries(JSON.parse(jd("-orchestrator-start-jd").inputs.containerProperties).environment.map((e: { name: string; value: string }) => [e.name, e.value]));
    expect(decodeJobDefinitions(v[TRIGGER_ENV.jobDefinitions]!)).toEqual(decodeJobDefinitions(start[START_JOB_ENV.jobDefinitions]));
    expect(v[TRIGGER_ENV.outputRoot]).toBe(start[START_JOB_ENV.outputRoot]);
  });

  it("parses as the Lambda parses it at cold start: an inline target on the process queue with the stack's tag", () => {
    const settings = parseTriggerSettings(vars());
    expect(settings.inline).toEqual({
      mode: "inline",
      target: {
        jobQueue: vars()[TRIGGER_ENV.processQueue],
        jobDefinitions: { process: jd("-process-jd").state.name, barrier: jd("-barrier-jd").state.name },
        stack: vars().PIPELINE_STACK,
        tags: {},
        outputRoot: "results/",
      },
    });
  });

  it("fits Lambda's 4 KB for the whole environment, as one JSON object: 845 bytes, 338 of them inline's four variables", () => {
    const v = vars();
    const inline = [TRIGGER_ENV.orchestratorMode, TRIGGER_ENV.processQueue, TRIGGER_ENV.jobDefinitions, TRIGGER_ENV.outputRoot];
    expect(Object.keys(v)).toHaveLength(10 + inline.length);
    expect(environmentBytes(v)).toBe(845);
    expect(environmentBytes(Object.fromEntries(inline.map((k) => [k, v[k]!])))).toBe(338);
    expect(environmentBytes(v)).toBeLessThanOrEqual(LAMBDA_ENVIRONMENT_MAX_BYTES);
  });
});

// Lambda quotas ("Function configuration, deployment, and execution", docs.aws.amazon.com/lambda/latest/dg/
// gettingstarted-limits.html): "Environment variables: 4 KB, for all environment variables associated with the
// function, in aggregate". infra/trigger.ts measures them as Lambda does, one JSON object in UTF-8 bytes.
describe("the trigger's environment check at Lambda's 4 KB", () => {
  // The Output's value (Output.promise, internal), its other promises observed: a failed apply rejects each of them.
  const settled = (output: pulumi.Output<unknown>): Promise<unknown> => {
    const o = output as unknown as { promise(): Promise<unknown>; isKnown: Promise<boolean>; isSecret: Promise<boolean>; allResources?: () => Promise<unknown> };
    for (const p of [o.isKnown, o.isSecret, o.allResources?.()]) p?.catch(() => undefined);
    return o.promise();
  };
  // 4,096 bytes in all: {"PIPELINE_STACK":"s","BIG":"…"} is 31 bytes and a value of 4,065, or one byte more; one
  // value an Output, as the process queue's ARN and the definitions' names are.
  const of = (total: number) => ({ PIPELINE_STACK: "s", BIG: pulumi.output("é".repeat(Math.floor((total - 31) / 2)) + "x".repeat((total - 31) % 2)) });

  it("sizes the probes as Lambda measures: the JSON object's UTF-8 bytes (a multi-byte character its bytes, a quote its escape)", async () => {
    expect(environmentBytes({ A: 'x"y' })).toBe('{"A":"x\\"y"}'.length);
    expect(environmentBytes(await settled(pulumi.all(of(4096))) as Record<string, string>)).toBe(4096);
    expect(environmentBytes(await settled(pulumi.all(of(4097))) as Record<string, string>)).toBe(4097);
  });

  it("passes an environment of exactly 4,096 bytes unchanged", async () => {
    const known = (await settled(pulumi.all(of(4096)))) as Record<string, string>;
    await expect(settled(withinEnvironmentLimit("t", of(4096)))).resolves.toEqual(known);
  });

  it("fails one of 4,097 bytes with a TriggerArgsError naming the component, the field, the size and the rule", async () => {
    const failed = settled(withinEnvironmentLimit("batch-pipeline-test-trigger", of(4097)));
    await expect(failed).rejects.toThrow(TriggerArgsError);
    await expect(failed).rejects.toThrow(
      "Trigger 'batch-pipeline-test-trigger' has `environment` = \"4097 bytes\"; Lambda allows 4096 bytes of environment variables in all; shorten the job definition keys or the tags",
    );
  });
});

describe("orchestrator.mode: inline, the trigger's role", () => {
  it("may submit to the process queue with the process and barrier definitions, read jobs and terminate this stack's: the start job's DAG grants, nothing of the start queue", () => {
    const statements = policyOf("-trigger-policy");
    const queue = one("aws:batch/jobQueue:JobQueue", "-low-queue").state.arn;
    const [process, barrier] = [jd("-process-jd").state.arnPrefix, jd("-barrier-jd").state.arnPrefix];
    const job = "arn:aws:batch:eu-west-1:123456789012:job/*";
    expect(statements.map((s) => s.Sid)).toEqual(["SubmitToQueue", "TagOnSubmit", "NoRetaggingOtherStacksJobs", "ReadJobs", "TerminateOwnJobs", "TerminateArrayChildren", "Idempotency", "DeadLetter", "OwnLogs"]);
    expect(statements[0]).toEqual({ Sid: "SubmitToQueue", Effect: "Allow", Action: ["batch:SubmitJob"], Resource: [queue, process, barrier, `${process}:*`, `${barrier}:*`, job] });
    expect(statements[1]!.Resource).toEqual([`${process}:*`, `${barrier}:*`, queue, job]);
    // The start queue and definition appear nowhere in the role.
    const text = JSON.stringify(statements);
    expect(text).not.toContain(one("aws:batch/jobQueue:JobQueue", "-high-queue").state.arn);
    expect(text).not.toContain(jd("-orchestrator-start-jd").state.arnPrefix);
    // One home for the DAG's reads and terminations (infra/iam.ts runJobsStatements): the start job's own.
    const dagSids = ["ReadJobs", "TerminateOwnJobs", "TerminateArrayChildren"];
    expect(statements.filter((s) => dagSids.includes(s.Sid!))).toEqual(policyOf("-orchestrator-job-policy").filter((s) => dagSids.includes(s.Sid!)));
    expect(statements.find((s) => s.Sid === "TerminateOwnJobs")!.Condition).toEqual({ StringEquals: { "aws:ResourceTag/pipeline:stack": vars().PIPELINE_STACK } });
  });
});

describe("orchestrator.mode: inline, the trigger's code", () => {
  it("is the inline factory's: the workflow, the planner and the submitter are serialized into the Lambda", async () => {
    const lambdas = await code();
    expect(lambdas).toHaveLength(1);
    // Serialized from vitest's transform of the sources (`__vite_ssr_import_*` wrappers), so read for what it
    // holds, not run: tests/e2e/ runs the tsc-compiled bundle.
    const text = lambdas[0]!;
    // Pulumi's closure serializer writes each function it serializes as `function /*name*/(`.
    for (const name of ["createInlineStarter", "planWorkflow", "collapseDependencies", "submitPlan", "submitJob", "terminateJobs"]) expect(text, name).toContain(`/*${name}*/`);
    // The stack's workflow, captured by value (the default one: prepare → 3 × process → merge).
    expect(text).toContain('__workflow_steps_0.name = "prepare";');
    expect(text).toContain('__workflow_steps_2.name = "merge";');
  });
});

describeIamSimulation("orchestrator.mode inline", () => stack);
