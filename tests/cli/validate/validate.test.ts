/**
 * `batch-pipeline validate`: stack files checked with the code `pulumi preview` runs, offline. Bad
 * configs live in throwaway projects (a Pulumi.yaml and Pulumi.<stack>.yaml under the OS temp dir), run
 * with that directory as the working directory.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { CONFIG_KEYS, ConfigError, loadPipelineConfig } from "../../../stack/config";
import { findProject, readStackConfig, stackFile, stackNames } from "../../../stack/project";
import { offline, project, tempDir } from "../stackProject";
import { cli, REPO } from "../support";

describe("validate: the example stacks", () => {
  it("passes every stack file of the project, one line each, and exits 0", async () => {
    // Every stack file there is: the examples, and any a user has added (a copy of one validates too).
    const stacks = stackNames(findProject(REPO));
    expect(stacks).toEqual(expect.arrayContaining(["dev", "prod"]));
    const width = Math.max(...stacks.map((s) => s.length));
    const { code, stdout, stderr, ctx } = await cli(["validate"], offline(REPO));
    const lines = stacks.map((s) => `✓ ${s.padEnd(width)}  ${basename(stackFile(findProject(REPO), s))}\n`);
    expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: lines.join(""), stderr: "" });
    expect(ctx.pulumiCalls).toEqual([]);
  });

  it.each([
    [["validate", "--stack", "dev"], {}, "✓ dev  Pulumi.dev.yaml\n"],
    [["--stack", "prod", "validate"], {}, "✓ prod  Pulumi.prod.yaml\n"],
    [["validate"], { BATCH_PIPELINE_STACK: "prod" }, "✓ prod  Pulumi.prod.yaml\n"],
  ])("checks only the chosen stack: %j with env %j", async (argv, env, expected) => {
    const { code, stdout } = await cli(argv, offline(REPO, env));
    expect({ code, stdout }).toEqual({ code: 0, stdout: expected });
  });
});

describe("validate: one line per mistake, naming the key, the value and the rule", () => {
  // Each bad value kind: the stack's `config:` and the one line it must give (the whole output is asserted,
  // so a second, overlapping message for the same mistake fails the test).
  it.each<[string, Record<string, unknown>, string]>([
    ["a string where a number goes", { "batch-pipeline:compute": { spot: { maxVcpus: "32" } } }, 'batch-pipeline:compute.spot.maxVcpus = "32": must be a number, not a string (write 32 without quotes)'],
    // zod reports min(0) and min(1) and the rule minVcpus ≤ maxVcpus read the bad value: one problem remains.
    ["a negative", { "batch-pipeline:compute": { spot: { maxVcpus: -1 } } }, "batch-pipeline:compute.spot.maxVcpus = -1: must be at least 1"],
    ["a fraction where a whole number goes", { "batch-pipeline:compute": { spot: { maxVcpus: 1.5 } } }, "batch-pipeline:compute.spot.maxVcpus = 1.5: must be a whole number"],
    ["an empty YAML value", { "batch-pipeline:compute": { spot: { maxVcpus: null } } }, "batch-pipeline:compute.spot.maxVcpus = null: must be a number, not an empty value (null)"],
    ["a quoted boolean", { "batch-pipeline:compute": { fargate: { enabled: "true" } } }, 'batch-pipeline:compute.fargate.enabled = "true": must be true or false, not a string (write true without quotes)'],
    ["an unknown enum value", { "batch-pipeline:compute": { spot: { allocationStrategy: "FASTEST" } } }, 'batch-pipeline:compute.spot.allocationStrategy = "FASTEST": must be one of SPOT_PRICE_CAPACITY_OPTIMIZED, SPOT_CAPACITY_OPTIMIZED, BEST_FIT_PROGRESSIVE, BEST_FIT'],
    ["a wrong type where a union goes", { "batch-pipeline:network": "default" }, 'batch-pipeline:network = "default": must be a map of keys to values, not a string'],
    ["an unknown union variant", { "batch-pipeline:network": { mode: "shared" } }, 'batch-pipeline:network.mode = "shared": must be one of default, new, existing'],
    ["a key of another variant", { "batch-pipeline:network": { mode: "existing", vpcId: "vpc-0123abcd", subnetIds: ["subnet-0123abcd"], cidrBlock: "10.0.0.0/16" } }, 'batch-pipeline:network.cidrBlock = "10.0.0.0/16": applies only with mode: new (the keys here are mode, vpcId, subnetIds)'],
    ["a misspelt nested key", { "batch-pipeline:compute": { spot: { maxVcpu: 4 } } }, "batch-pipeline:compute.spot.maxVcpu = 4: unknown key; did you mean maxVcpus?"],
    ["an unknown nested key", { "batch-pipeline:compute": { spot: { color: "red" } } }, 'batch-pipeline:compute.spot.color = "red": unknown key; the keys here are minVcpus, maxVcpus, bidPercentage, allocationStrategy, instanceTypes'],
    ["a misspelt top-level key", { "batch-pipeline:logRetentionDay": 7 }, "batch-pipeline:logRetentionDay = 7: unknown key; did you mean logRetentionDays?"],
    ["a value CloudWatch does not take", { "batch-pipeline:logRetentionDays": 10 }, "batch-pipeline:logRetentionDays = 10: must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653"],
    ["a wrong type in a record", { "batch-pipeline:tags": { "cost center": 5 } }, 'batch-pipeline:tags["cost center"] = 5: must be a string, not a number'],
    ["a rule between keys", { "batch-pipeline:queues": { high: { priority: 5 }, low: { priority: 10 } } }, "batch-pipeline:queues.high.priority = 5: must be greater than queues.low.priority (10)"],
    ["a bad workflow", { "batch-pipeline:workflow": { steps: [{ name: "a", jobDefinition: "gpu" }] } }, "batch-pipeline:workflow: workflow step `a`: jobDefinition `gpu` is not a known job definition key (known: process)"],
    [
      "an output prefix IAM reads as a wildcard",
      { "batch-pipeline:trigger": { outputPrefix: "*" } },
      "batch-pipeline:trigger.outputPrefix = \"*\": holds \"*\", which IAM ARNs or S3 filters do not read literally (in an ARN * and ? are wildcards, ${…} a policy variable): trigger.prefix and trigger.outputPrefix go into the roles' s3 ARNs and take A-Z a-z 0-9 ! - _ . ' ( ) and / only",
    ],
    ["a workflow of the wrong shape", { "batch-pipeline:workflow": "prepare, merge" }, "batch-pipeline:workflow: the workflow must be an object `{ steps: [...] }`"],
    ["an unknown trigger delivery", { "batch-pipeline:trigger": { delivery: "sqs" } }, 'batch-pipeline:trigger.delivery = "sqs": must be one of async, queue'],
    [
      "a queue delivery's maximum concurrency Lambda does not accept",
      { "batch-pipeline:trigger": { delivery: "queue", queueMaxConcurrency: 1 } },
      "batch-pipeline:trigger.queueMaxConcurrency = 1: Lambda accepts a maximum concurrency from 2 to 1000 for an SQS event source mapping",
    ],
    [
      // Lambda developer guide, "Configuring scaling behavior for SQS event source mappings": reserved concurrency ≥ maximum concurrency.
      "a queue delivery polling with more concurrency than the function reserves",
      { "batch-pipeline:trigger": { delivery: "queue", maxConcurrency: 4, queueMaxConcurrency: 5 } },
      "batch-pipeline:trigger.queueMaxConcurrency = 5: queueMaxConcurrency = 5 > maxConcurrency = 4; the event source mapping's maximum concurrency may not exceed the function's reserved concurrency, or Lambda throttles its batches back to the queue (and, received too often, to the dead-letter queue): set trigger.maxConcurrency to at least 5 (or 0, reserving none), or lower trigger.queueMaxConcurrency",
    ],
    [
      "a dotted key written without --path",
      { "batch-pipeline:compute.spot.maxVcpus": 32 },
      "batch-pipeline:compute.spot.maxVcpus: this sets a key literally named \"compute.spot.maxVcpus\"; set the nested value with pulumi config set --path 'batch-pipeline:compute.spot.maxVcpus' 32 and remove this one with pulumi config rm 'batch-pipeline:compute.spot.maxVcpus'",
    ],
    [
      "a dotted key of a string, needing quotes in the shell",
      { "batch-pipeline:tags.owner": "data team" },
      "batch-pipeline:tags.owner: this sets a key literally named \"tags.owner\"; set the nested value with pulumi config set --path 'batch-pipeline:tags.owner' 'data team' and remove this one with pulumi config rm 'batch-pipeline:tags.owner'",
    ],
    [
      // With --path, Pulumi stores 123 as a number; a tag value must be a string.
      "a dotted key of a string that Pulumi would store as a number",
      { "batch-pipeline:tags.build": "123" },
      "batch-pipeline:tags.build: this sets a key literally named \"tags.build\"; set the nested value with pulumi config set --path --type string 'batch-pipeline:tags.build' 123 and remove this one with pulumi config rm 'batch-pipeline:tags.build'",
    ],
    [
      // With --path, Pulumi stores 0.5 as a string unless told; -1 would read as a flag without `--`.
      "a dotted key of a fraction",
      { "batch-pipeline:orchestrator.vcpus": 0.5 },
      "batch-pipeline:orchestrator.vcpus: this sets a key literally named \"orchestrator.vcpus\"; set the nested value with pulumi config set --path --type float 'batch-pipeline:orchestrator.vcpus' 0.5 and remove this one with pulumi config rm 'batch-pipeline:orchestrator.vcpus'",
    ],
    [
      "a dotted key of a negative number",
      { "batch-pipeline:compute.spot.minVcpus": -1 },
      "batch-pipeline:compute.spot.minVcpus: this sets a key literally named \"compute.spot.minVcpus\"; set the nested value with pulumi config set --path 'batch-pipeline:compute.spot.minVcpus' -- -1 and remove this one with pulumi config rm 'batch-pipeline:compute.spot.minVcpus'",
    ],
    [
      "a dotted key with a typo",
      { "batch-pipeline:compute.spot.maxVcpu": 32 },
      "batch-pipeline:compute.spot.maxVcpu = 32: unknown key, even as a nested path; did you mean compute.spot.maxVcpus? set the nested value with pulumi config set --path 'batch-pipeline:compute.spot.maxVcpus' 32 and remove this one with pulumi config rm 'batch-pipeline:compute.spot.maxVcpu'",
    ],
    [
      "a dotted key naming nothing",
      { "batch-pipeline:color.shade": "red" },
      // The project's top-level keys, in the schema's order (CONFIG_KEYS), so a key added there shows here too.
      `batch-pipeline:color.shade = "red": unknown key; the keys here are ${CONFIG_KEYS.join(", ")}`,
    ],
  ])("%s", async (_kind, config, line) => {
    const { code, stdout, stderr } = await cli(["validate", "--stack", "bad"], offline(project({ bad: config })));
    expect({ code, stdout, stderr }).toEqual({ code: 1, stdout: `✗ bad  Pulumi.bad.yaml: 1 problem\n    ${line}\n`, stderr: "" });
  });

  it("names each missing required key on its own line", async () => {
    const { code, stdout } = await cli(["validate"], offline(project({ bad: { "batch-pipeline:network": { mode: "existing" } } })));
    expect(code).toBe(1);
    expect(stdout).toBe(
      "✗ bad  Pulumi.bad.yaml: 2 problems\n" +
        "    batch-pipeline:network.vpcId = (unset): is required (a string)\n" +
        "    batch-pipeline:network.subnetIds = (unset): is required (a list)\n",
    );
  });

  it("prints exactly the lines pulumi preview fails with (loadPipelineConfig, as index.ts calls it)", async () => {
    const dir = project({ bad: { "batch-pipeline:logRetentionDays": 2, "batch-pipeline:compute": { spot: { bidPercentage: 0 } }, "batch-pipeline:startQueue": "urgent" } });
    const { stdout } = await cli(["validate"], offline(dir));
    const p = findProject(dir);
    let preview: string[] = [];
    try {
      loadPipelineConfig(readStackConfig(p, "bad").all, p.name);
    } catch (e) {
      preview = [...(e as ConfigError).issues];
    }
    expect(preview).toHaveLength(2);
    expect(stdout).toBe(`✗ bad  Pulumi.bad.yaml: 2 problems\n${preview.map((l) => `    ${l}\n`).join("")}`);
  });

  it("reports a stack file that is not YAML as that stack's problem, and still checks the others", async () => {
    const dir = project({ broken: "config:\n  batch-pipeline:tags: {a: [\n", good: { "batch-pipeline:logRetentionDays": 7 } });
    const { code, stdout } = await cli(["validate"], offline(dir));
    expect(code).toBe(1);
    expect(stdout).toMatch(new RegExp(`^✗ broken  Pulumi\\.broken\\.yaml: 1 problem\n    ${join(dir, "Pulumi.broken.yaml").replaceAll(".", "\\.")} is not valid YAML: [^\n]+\n✓ good    Pulumi\\.good\\.yaml\n$`));
  });
});

describe("validate: where the project is, and which stacks there are", () => {
  it("finds the project from the working directory, reads its own namespace and shows files relative to it", async () => {
    const dir = project({ mine: { "my-pipeline:logRetentionDays": 5, "my-pipeline:logRetentionDay": 5 } }, "my-pipeline");
    const sub = join(dir, "data", "in");
    mkdirSync(sub, { recursive: true });
    const { code, stdout } = await cli(["validate"], offline(sub));
    expect({ code, stdout }).toEqual({ code: 1, stdout: "✗ mine  ../../Pulumi.mine.yaml: 1 problem\n    my-pipeline:logRetentionDay = 5: unknown key; did you mean logRetentionDays?\n" });
  });

  it("given an unknown stack, exits 2 naming the stacks there are", async () => {
    // A name no one gives a stack: `staging` may well be one a user has added.
    const { code, stdout, stderr } = await cli(["validate", "--stack", "no-such-stack"], offline(REPO));
    expect({ code, stdout, stderr }).toEqual({ code: 2, stdout: "", stderr: `error: no stack \`no-such-stack\`: ${join(REPO, "Pulumi.no-such-stack.yaml")} does not exist (stacks here: ${stackNames(findProject(REPO)).join(", ")})\n` });
  });

  it("given a project without stack files, exits 2 saying how to make one", async () => {
    const dir = project({});
    const { code, stderr } = await cli(["validate"], offline(dir));
    expect({ code, stderr }).toEqual({ code: 2, stderr: `error: no stack files (Pulumi.<stack>.yaml) in ${dir}: copy Pulumi.dev.yaml to Pulumi.<stack>.yaml, or run pulumi stack init <stack>\n` });
  });

  it("outside any project, exits 2", async () => {
    const dir = tempDir("bp-noproject-");
    const { code, stderr } = await cli(["validate"], offline(dir));
    expect(code).toBe(2);
    expect(stderr).toBe(`error: no Pulumi.yaml in ${dir} or any directory above it: run batch-pipeline inside the project\n`);
  });
});

describe("validate: secrets", () => {
  const secret = { secure: "v1:0123456789abcdef:aGVsbG8=" };

  it("says which of its keys are secrets it could not check, and passes on the rest", async () => {
    const dir = project({ sec: { "batch-pipeline:notifications": secret, "aws:secretKey": secret, "batch-pipeline:logRetentionDays": 14 } });
    const { code, stdout } = await cli(["validate"], offline(dir));
    expect({ code, stdout }).toEqual({
      code: 0,
      stdout: "✓ sec  Pulumi.sec.yaml\n  ! not checked: batch-pipeline:notifications is a secret (secure:) that only Pulumi can decrypt; the rest was checked as if it were unset\n",
    });
  });

  it("lists them under unchecked in --json; another provider's secrets are none of its business", async () => {
    const dir = project({ sec: { "batch-pipeline:notifications": secret, "aws:defaultTags": secret, "aws:secretKey": secret } });
    const { stdout } = await cli(["validate", "--json"], offline(dir));
    expect(JSON.parse(stdout).stacks[0].unchecked).toEqual(["batch-pipeline:notifications", "aws:defaultTags"]);
  });
});

describe("validate --json", () => {
  it("prints one document: every stack with its problems as {key, message}, and exits 1 when one has any", async () => {
    const dir = project({ bad: { "batch-pipeline:compute.spot.maxVcpus": 32, "batch-pipeline:trigger": { idempotencyDays: 0 } }, good: {} });
    const { code, stdout, stderr } = await cli(["validate", "--json"], offline(dir));
    expect({ code, stderr }).toEqual({ code: 1, stderr: "" });
    expect(stdout.endsWith("\n") && stdout.trimEnd().split("\n")).toHaveLength(1);
    expect(JSON.parse(stdout)).toEqual({
      stacks: [
        {
          stack: "bad",
          file: join(dir, "Pulumi.bad.yaml"),
          valid: false,
          problems: [
            { key: "batch-pipeline:trigger.idempotencyDays", message: "batch-pipeline:trigger.idempotencyDays = 0: must be at least 1" },
            {
              key: "batch-pipeline:compute.spot.maxVcpus",
              message:
                "batch-pipeline:compute.spot.maxVcpus: this sets a key literally named \"compute.spot.maxVcpus\"; set the nested value with pulumi config set --path 'batch-pipeline:compute.spot.maxVcpus' 32 and remove this one with pulumi config rm 'batch-pipeline:compute.spot.maxVcpus'",
            },
          ],
          unchecked: [],
        },
        { stack: "good", file: join(dir, "Pulumi.good.yaml"), valid: true, problems: [], unchecked: [] },
      ],
    });
  });

  it("exits 0 for valid stacks", async () => {
    const { code, stdout } = await cli(["validate", "--json", "--stack", "dev"], offline(REPO));
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ stacks: [{ stack: "dev", file: join(REPO, "Pulumi.dev.yaml"), valid: true, problems: [], unchecked: [] }] });
  });
});

describe("validate and plan on a fresh clone: the real bin, no AWS, no Pulumi CLI", () => {
  // PATH holds only Node 22's own directory, and no AWS_* variable is set.
  const bin = dirname(process.execPath);
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [join(REPO, "cli", "batch-pipeline.cjs"), ...args], { cwd: REPO, env: { PATH: bin }, encoding: "utf8", timeout: 60_000 });

  it("runs `node cli/batch-pipeline.cjs validate --stack dev` and exits 0", () => {
    expect(existsSync(join(bin, "pulumi"))).toBe(false);
    const result = run("validate", "--stack", "dev");
    expect({ status: result.status, stdout: result.stdout, stderr: result.stderr }).toEqual({ status: 0, stdout: "✓ dev  Pulumi.dev.yaml\n", stderr: "" });
  });

  it("runs `node cli/batch-pipeline.cjs plan --stack dev --size 10GiB` and exits 0", () => {
    const result = run("plan", "--stack", "dev", "--size", "10GiB");
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: "" });
    expect(result.stdout).toContain("input s3://batch-pipeline-dev-628b23-input/incoming/sample.bin (10,737,418,240 bytes, version sample-version-id)");
  });
});

describe("validate and pulumi preview: an object's key never reaches a shell (issue 17)", () => {
  const BUSYBOX = "public.ecr.aws/docker/library/busybox:1.37";
  const fix = `Batch substitutes parameters as text, so an object key like data$(id).csv would run as shell code; pass it as its own argument after the script (sh -c 'cat "$1"' sh Ref::key) or read "$PIPELINE_INPUT_KEY" quoted`;

  it.each<[string, Record<string, unknown>, string]>([
    [
      "a job definition's command with Ref::key inside sh -c",
      { "batch-pipeline:jobDefinitions": { process: { image: BUSYBOX, command: ["sh", "-c", "cat Ref::key"] } } },
      `batch-pipeline:jobDefinitions.process.command[2] = "cat Ref::key": argument 2 ("cat Ref::key") puts Ref::key inside the script of \`sh -c\`: ${fix}`,
    ],
    [
      "a workflow step's command with Ref::key inside /usr/bin/env bash -ec",
      { "batch-pipeline:workflow": { steps: [{ name: "split", jobDefinition: "process", command: ["/usr/bin/env", "bash", "-ec", 'wc -l "Ref::key"'] }] } },
      `batch-pipeline:workflow: workflow step \`split\`: command argument 3 ("wc -l \\"Ref::key\\"") puts Ref::key inside the script of \`/usr/bin/env bash -ec\`: ${fix}`,
    ],
  ])("%s fails, naming the definition or step, the argument and the fix", async (_kind, config, line) => {
    const dir = project({ bad: config });
    const { code, stdout, stderr } = await cli(["validate", "--stack", "bad"], offline(dir));
    expect({ code, stdout, stderr }).toEqual({ code: 1, stdout: `✗ bad  Pulumi.bad.yaml: 1 problem\n    ${line}\n`, stderr: "" });
    const p = findProject(dir);
    expect(() => loadPipelineConfig(readStackConfig(p, "bad").all, p.name)).toThrow(line);
  });

  it("passes the key as its own argument after the script, or the quoted variable", async () => {
    const jobDefinitions = {
      process: { image: BUSYBOX, command: ["sh", "-c", 'cat "$1" "$PIPELINE_INPUT_KEY"', "sh", "Ref::key"] },
    };
    const { code, stdout } = await cli(["validate", "--stack", "good"], offline(project({ good: { "batch-pipeline:jobDefinitions": jobDefinitions } })));
    expect({ code, stdout }).toEqual({ code: 0, stdout: expect.stringMatching(/^✓ good/) });
  });
});
