/** Where the CLI finds the deployed stack's names: a saved outputs file, the Pulumi CLI, or neither. */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { projectFiles as tempProject } from "../stackProject";
import { chooseStack, loadDeployedStack, parseOutputs, stackAccount } from "../../../cli/stack/outputs";
import { findProject, stackNames } from "../../../stack/project";
import { CliError } from "../../../cli/app/errors";
import { ACCOUNT, cliContext, OUTPUTS, REPO } from "../support";

describe("chooseStack", () => {
  it("given --stack, uses it; else BATCH_PIPELINE_STACK", () => {
    expect(chooseStack({ stack: "prod" }, cliContext())).toBe("prod");
    expect(chooseStack({}, cliContext({ env: { BATCH_PIPELINE_STACK: "dev" } }))).toBe("dev");
  });
  it("given neither and several stack files, refuses and lists them", () => {
    // Every Pulumi.<stack>.yaml of the repository: the examples, and any a user has added.
    const stacks = stackNames(findProject(REPO));
    expect(stacks).toEqual(expect.arrayContaining(["dev", "prod"]));
    expect(() => chooseStack({}, cliContext())).toThrow(`which stack? pass --stack NAME or set BATCH_PIPELINE_STACK (stacks here: ${stacks.join(", ")})`);
  });
  it("given neither and one stack file, uses it", () => {
    const cwd = tempProject({ "Pulumi.only.yaml": "config: {}\n" });
    expect(chooseStack({}, cliContext({ cwd }))).toBe("only");
  });
});

describe("loadDeployedStack", () => {
  it("given the Pulumi CLI, asks it for the stack's outputs in the project directory and takes the region from aws:region", async () => {
    const ctx = cliContext();
    const deployed = await loadDeployedStack({ stack: "dev" }, ctx);
    expect(ctx.pulumiCalls).toEqual([["stack", "output", "--json", "--stack", "dev"]]);
    expect(deployed).toEqual({ stack: "dev", outputs: OUTPUTS, region: "eu-west-1", source: "pulumi stack output --stack dev" });
  });

  it("given AWS_REGION, it wins over the stack's aws:region", async () => {
    expect((await loadDeployedStack({ stack: "dev" }, cliContext({ env: { AWS_REGION: "us-east-2" } }))).region).toBe("us-east-2");
  });

  it("given --outputs FILE (relative to the working directory), reads it and never runs pulumi", async () => {
    const cwd = tempProject({ "Pulumi.dev.yaml": "config:\n  aws:region: us-west-2\n", "dev.json": JSON.stringify(OUTPUTS) });
    const ctx = cliContext({ cwd });
    const deployed = await loadDeployedStack({ stack: "dev", outputs: "dev.json" }, ctx);
    expect(ctx.pulumiCalls).toEqual([]);
    expect(deployed.outputs).toEqual(OUTPUTS);
    expect(deployed.region).toBe("us-west-2");
    expect(deployed.source).toBe(join(cwd, "dev.json"));
  });

  it("given BATCH_PIPELINE_OUTPUTS, reads that file", async () => {
    const cwd = tempProject({ "Pulumi.dev.yaml": "config: {}\n", "o.json": JSON.stringify(OUTPUTS) });
    const deployed = await loadDeployedStack({ stack: "dev" }, cliContext({ cwd, env: { BATCH_PIPELINE_OUTPUTS: "o.json" } }));
    expect(deployed.outputs.inputBucketName).toBe(OUTPUTS.inputBucketName);
    expect(deployed.region).toBeUndefined();
  });

  it("given flags, they override single outputs", async () => {
    const deployed = await loadDeployedStack({ stack: "dev", bucket: "other-bucket", startQueue: "sq", processQueue: "pq", function: "fn", dlqUrl: "https://q" }, cliContext());
    expect(deployed.outputs).toMatchObject({ inputBucketName: "other-bucket", startQueueArn: "sq", processQueueArn: "pq", triggerFunctionName: "fn", deadLetterQueueUrl: "https://q" });
  });

  it("given no Pulumi CLI and no outputs file, says both ways to provide them in one line", async () => {
    const error = await loadDeployedStack({ stack: "dev" }, cliContext({ pulumiOutputs: null })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).message).toBe(
      "no stack outputs for `dev`: the Pulumi CLI is not installed; pass --outputs FILE (saved with `pulumi stack output --json --stack dev > dev.outputs.json`) or set BATCH_PIPELINE_OUTPUTS",
    );
    expect((error as CliError).exitCode).toBe(2);
  });

  it("given an outputs file of an older deploy, names the outputs it lacks", async () => {
    const { triggerPrefix: _p, startQueueArn: _s, ...older } = OUTPUTS;
    const cwd = tempProject({ "Pulumi.dev.yaml": "config: {}\n", "old.json": JSON.stringify(older) });
    await expect(loadDeployedStack({ stack: "dev", outputs: "old.json" }, cliContext({ cwd }))).rejects.toThrow(/lacks stack outputs startQueueArn, triggerPrefix: deploy this version/);
  });

  it("given a missing or non-JSON outputs file, says which file", async () => {
    const cwd = tempProject({ "Pulumi.dev.yaml": "config: {}\n", "bad.json": "Current stack outputs (3):" });
    await expect(loadDeployedStack({ stack: "dev", outputs: "nope.json" }, cliContext({ cwd }))).rejects.toThrow(`cannot read the stack outputs file ${join(cwd, "nope.json")}`);
    expect(() => parseOutputs("Current stack outputs (3):", "bad.json")).toThrow("bad.json is not JSON; save it with `pulumi stack output --json --stack <stack> > <file>`");
  });
});

describe("stackAccount (submit's ExpectedBucketOwner)", () => {
  it("is the account of the stack's queue ARNs, and unknown when flags named the queues instead", () => {
    expect(stackAccount(OUTPUTS)).toBe(ACCOUNT);
    expect(stackAccount({ startQueueArn: "high-q", processQueueArn: "low-q", queueArns: {} })).toBeUndefined();
    expect(stackAccount({ startQueueArn: "high-q", processQueueArn: "low-q", queueArns: { low: "arn:aws:batch:eu-west-1:210987654321:job-queue/low-q" } })).toBe("210987654321");
  });
});
