/**
 * The Batch rules a local run applies, as pure tables: `Ref::` parameter substitution and container
 * overrides (Job definition parameters, Batch user guide; ContainerOverrides, Batch API reference),
 * evaluateOnExit globs (EvaluateOnExit, Batch API reference), the variables Batch sets, and whole lines
 * out of output chunks.
 */
import { RetryAction } from "@aws-sdk/client-batch";
import { describe, expect, it } from "vitest";
import { BATCH_INJECTED_ENVIRONMENT_WORST_CASE } from "../../../contract";
import { DEFAULT_EVALUATE_ON_EXIT } from "../../../stack/retryStrategy";
import { BATCH_ENV, jobCommand, jobEnvironment, queueName, substituteParameters, taskEnvironment } from "../../../cli/run/environment";
import { evaluateOnExit, globMatches, shouldRetry } from "../../../cli/run/retry";
import { LineBuffer } from "../../../cli/run/taskLogs";
import { localVersionId } from "../../../cli/run/plan";
import { shellProblemOf } from "../../../cli/run/model";
import { modelOf } from "./support";

describe("parameter substitution and overrides", () => {
  it.each([
    [["cp", "Ref::key", "s3://out/Ref::key"], { key: "in/a.csv" }, ["cp", "in/a.csv", "s3://out/in/a.csv"]],
    // Longest name first: Ref::keyPrefix is its own parameter, not Ref::key followed by "Prefix".
    [["Ref::keyPrefix/Ref::key"], { key: "k", keyPrefix: "p" }, ["p/k"]],
    // A value is never substituted again, and unknown placeholders stay.
    [["Ref::a Ref::b"], { a: "Ref::b", b: "B" }, ["Ref::b B"]],
    [["Ref::missing", "Ref::"], { key: "k" }, ["Ref::missing", "Ref::"]],
    [["x.y", "a+b", "Ref::x.y"], { "x.y": "dotted" }, ["x.y", "a+b", "dotted"]],
  ])("%j with %j is %j", (command, parameters, expected) => expect(substituteParameters(command, parameters)).toEqual(expected));

  it("takes the override's command over the definition's, and request parameters over the definition's defaults", () => {
    const definition = { command: ["run", "Ref::mode"], environment: { A: "def", B: "def" }, parameters: { mode: "default" } };
    expect(jobCommand(definition, {})).toEqual(["run", "default"]);
    expect(jobCommand(definition, { parameters: { mode: "fast" } })).toEqual(["run", "fast"]);
    expect(jobCommand(definition, { containerOverrides: { command: ["other", "Ref::mode"] }, parameters: { mode: "fast" } })).toEqual(["other", "fast"]);
    expect(jobCommand({ environment: {}, parameters: {} }, {})).toBeUndefined();
    expect(jobEnvironment(definition, { containerOverrides: { environment: [{ name: "B", value: "override" }, { name: "C", value: "new" }] } })).toEqual({ A: "def", B: "override", C: "new" });
  });

  it("sets Batch's own variables, the array ones only on array children, and names the queue as AWS_BATCH_JQ_NAME does", () => {
    expect(taskEnvironment({ X: "1" }, { jobId: "j", attempt: 2 })).toEqual({ X: "1", AWS_BATCH_JOB_ID: "j", AWS_BATCH_JOB_ATTEMPT: "2" });
    expect(taskEnvironment({}, { jobId: "j:3", attempt: 1, arrayIndex: 3, arraySize: 10 })).toMatchObject({ AWS_BATCH_JOB_ARRAY_INDEX: "3", AWS_BATCH_JOB_ARRAY_SIZE: "10" });
    expect(queueName("arn:aws:batch:eu-west-1:123456789012:job-queue/stack-low-q-4d5e6f7")).toBe("stack-low-q-4d5e6f7");
    expect(queueName("low")).toBe("low");
  });

  it("sets only variables the orchestrator's request-size headroom accounts for (contract BATCH_INJECTED_ENVIRONMENT_WORST_CASE)", () => {
    const counted = BATCH_INJECTED_ENVIRONMENT_WORST_CASE.map((e) => e.name);
    expect(Object.values(BATCH_ENV).filter((name) => !counted.includes(name))).toEqual([]);
  });

  it("derives the stand-in version id from the content hash", () => {
    expect(localVersionId("ab".repeat(32))).toBe(`local-${"ab".repeat(16)}`);
  });
});

describe("evaluateOnExit (first matching rule decides; no match retries)", () => {
  it.each([
    ["3", "3", true],
    ["3", "30", false],
    ["3*", "30", true],
    ["*", undefined, true],
    ["Host EC2*", "Host EC2 (instance i-0abc) terminated.", true],
    ["Host EC2*", "host ec2 (instance i-0abc) terminated.", false],
  ])("glob %j against %j: %s", (pattern, value, matches) => expect(globMatches(pattern, value)).toBe(matches));

  it("needs every condition of a rule to match, and reports which rule decided", () => {
    const rules = [
      { onExitCode: "137", onReason: "OutOfMemory*", action: RetryAction.RETRY },
      { onExitCode: "1*", action: "exit" as RetryAction },
    ];
    expect(evaluateOnExit(rules, { exitCode: 137, reason: "OutOfMemoryError: Container killed" })).toEqual({ action: "RETRY", rule: 0 });
    expect(evaluateOnExit(rules, { exitCode: 137 })).toEqual({ action: "EXIT", rule: 1 });
    expect(evaluateOnExit(rules, { exitCode: 2 })).toEqual({ action: "RETRY" });
  });

  it("with the stack's default rules retries Spot reclamation only, and never beyond the attempts", () => {
    const strategy = { attempts: 3, evaluateOnExit: [...DEFAULT_EVALUATE_ON_EXIT] };
    expect(shouldRetry(strategy, 1, { exitCode: 1, statusReason: "Essential container in task exited" })).toBe(false);
    expect(shouldRetry(strategy, 1, { statusReason: "Host EC2 (instance i-0abc) terminated." })).toBe(true);
    expect(shouldRetry(strategy, 3, { statusReason: "Host EC2 (instance i-0abc) terminated." })).toBe(false);
    expect(shouldRetry(undefined, 1, { exitCode: 1 })).toBe(false);
  });
});

describe("LineBuffer", () => {
  it("gives whole lines per task, keeping a partial one for the task's next chunk or its end", () => {
    const lines = new LineBuffer<string>();
    expect(lines.push("a", "one\ntw")).toEqual(["one"]);
    expect(lines.push("b", "other\r\n")).toEqual(["other"]);
    expect(lines.push("a", "o\nthree")).toEqual(["two"]);
    expect(lines.end("a")).toEqual(["three"]);
    expect(lines.end("b")).toEqual([]);
  });
});

describe("shellProblemOf: the runner's own check of what it would execute (issue 17)", () => {
  it("names the definition or the step whose unsubstituted command puts Ref:: inside sh -c; none for a safe one", async () => {
    const { model } = await modelOf({
      jobDefinitions: { work: { image: "public.ecr.aws/docker/library/busybox:1.37", command: ["sh", "-c", 'cat "$1"', "sh", "Ref::key"] } },
      workflow: { steps: [{ name: "a", jobDefinition: "work" }, { name: "b", jobDefinition: "work", command: ["true"], dependsOn: ["a"] }] },
    });
    const [a, b] = model.jobs;
    expect([shellProblemOf(a!), shellProblemOf(b!)]).toEqual([undefined, undefined]);
    // As if the config had not been validated: the runner refuses on its own (exit 2 in `run`).
    a!.definition!.command = ["sh", "-c", "cat Ref::key"];
    expect(shellProblemOf(a!)).toMatch(/^jobDefinitions\.work\.command argument 2 \("cat Ref::key"\) puts Ref::key inside the script of `sh -c`: .*"\$PIPELINE_INPUT_KEY" quoted$/);
    b!.planned.request.containerOverrides!.command = ["bash", "-ec", "echo Ref::bucket"];
    expect(shellProblemOf(b!)).toMatch(/^workflow step `b` command argument 2 \("echo Ref::bucket"\) puts Ref::bucket inside the script of `bash -ec`: .*"\$PIPELINE_INPUT_BUCKET" quoted$/);
  });
});
