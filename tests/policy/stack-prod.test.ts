/**
 * The policy pack against the example production stack (Pulumi.prod.yaml): a new VPC, Fargate
 * environments and the start job on Fargate, a third queue, a year of logs. Every policy passes, and
 * the Fargate-only resources (their environments and job definitions) are held to the same rules.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { EXIT_CODES } from "../../contract/limits";
import { resourcePrefix } from "../../stack/naming";
import { PROJECT, STACK } from "../mocks";
import { prodStack } from "../support/stacks";
import { loadStack, named, runPack, type StackResource, variant } from "./support";

const P = resourcePrefix(PROJECT, STACK);
let stack: StackResource[];

beforeAll(async () => {
  stack = await loadStack(prodStack());
});

describe("the production example stack", () => {
  it("passes every policy of the pack", async () => {
    expect(stack.filter((r) => r.type === "aws:batch/computeEnvironment:ComputeEnvironment")).toHaveLength(4);
    expect(await runPack(stack)).toEqual([]);
  });

  it("holds a Fargate start job definition to the retry rule (its last RETRY rule, on SIGTERM, is no catch-all)", async () => {
    const start = named(stack, "aws:batch/jobDefinition:JobDefinition", "-orchestrator-start-jd");
    expect(start.inputs.platformCapabilities).toEqual(["FARGATE"]);
    const last = start.inputs.retryStrategy.evaluateOnExits.length - 2;
    const broken = variant(stack, start.name, (props) => (props.retryStrategy.evaluateOnExits = props.retryStrategy.evaluateOnExits.slice(0, -1)));
    expect(await runPack(broken)).toEqual([
      {
        policy: "batch-job-definition-retry-catch-all",
        level: "mandatory",
        message: `JobDefinition "${P}-orchestrator-start-jd": retryStrategy.evaluateOnExits[${last}] {"action":"RETRY","onExitCode":"${EXIT_CODES.interrupted}"} is the last rule and not a catch-all EXIT, so Batch retries every failure no rule matches; append { onReason: "*", action: "EXIT" }.`,
        urn: start.urn,
      },
    ]);
  });

  it("holds a Fargate compute environment to the naming rule", async () => {
    const fargate = named(stack, "aws:batch/computeEnvironment:ComputeEnvironment", "-fargate-spot-ce");
    const broken = variant(stack, fargate.name, (props) => (props.computeEnvironmentName = "fargate-spot"));
    expect((await runPack(broken)).map((v) => [v.policy, v.urn])).toEqual([["batch-compute-environment-replaceable", fargate.urn]]);
  });
});
