/**
 * `batch-pipeline plan`: the orchestrator's own planner over the stack's workflow for a sample input,
 * offline, as a tree, JSON or a Mermaid flowchart.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { submittedBy } from "../../../cli/plan/command";
import { MAX_CONTAINER_OVERRIDES_CHARS } from "../../../contract";
import { computeRunId } from "../../../contract/run";
import { parsePipelineConfig } from "../../../stack/config";
import { planWorkflow } from "../../../workflow/planner";
import { DEFAULT_WORKFLOW } from "../../../workflow/spec";
import { MERMAID_ID, parseSize } from "../../../cli/plan/graph";
import { buildProgram } from "../../../cli/app/program";
import { offline, project, tempDir } from "../stackProject";
import { cli, cliContext, OUTPUTS, REPO } from "../support";

const DEV_BUCKET = "batch-pipeline-dev-628b23-input";
const runIdOf = (bucket: string, key = "incoming/sample.bin", versionId = "sample-version-id") => computeRunId({ bucket, key, versionId });

/** A workflow over the default job definition: prepare, two steps of one task per `perChunkBytes` (N_TO_N), and a fan-in. */
const wide = (perChunkBytes: number, fanIn = ["b"]) => ({
  steps: [
    { name: "prepare", jobDefinition: "process" },
    { name: "a", jobDefinition: "process", dependsOn: ["prepare"], width: { perChunkBytes } },
    { name: "b", jobDefinition: "process", dependsOn: [{ step: "a", type: "N_TO_N" }], width: { perChunkBytes } },
    ...["c", "d", "e", "f"].map((name) => ({ name, jobDefinition: "process", dependsOn: ["prepare"], width: { perChunkBytes } })),
    { name: "merge", jobDefinition: "process", dependsOn: [...fanIn, "prepare"] },
  ],
});

/**
 * Parses a Mermaid flowchart as far as this renderer writes one, failing on any other line: node
 * declarations (quoted labels, no raw quote inside), edges between declared nodes, comments and classes.
 */
function parseMermaid(text: string) {
  const [first, ...lines] = text.trimEnd().split("\n");
  expect(first).toBe("flowchart TD");
  const nodes = new Map<string, string>();
  const edges: { from: string; to: string; label?: string }[] = [];
  for (const line of lines) {
    let m: RegExpExecArray | null;
    if ((m = /^ {2}(\S+)(?:\["([^"]*)"\]|\{\{"([^"]*)"\}\})$/.exec(line))) {
      expect(nodes.has(m[1]!), `node ${m[1]} declared twice`).toBe(false);
      nodes.set(m[1]!, m[2] ?? m[3]!);
    } else if ((m = /^ {2}(\S+) -->(?:\|([^|"]+)\|)? (\S+)$/.exec(line))) {
      edges.push({ from: m[1]!, to: m[3]!, ...(m[2] ? { label: m[2] } : {}) });
    } else if (!/^ {2}%% (?!\{)[^\n]*$/.test(line) && !/^ {2}classDef \w+ [^;\n]+$/.test(line) && !(m = /^ {2}class ([\w,]+) \w+$/.exec(line))) {
      throw new Error(`not a Mermaid line this renderer writes: ${JSON.stringify(line)}`);
    } else if (m) {
      for (const id of m[1]!.split(",")) expect(nodes.has(id), `class of undeclared node ${id}`).toBe(true);
    }
  }
  for (const id of nodes.keys()) expect(id).toMatch(MERMAID_ID);
  for (const e of edges) expect([nodes.has(e.from), nodes.has(e.to)], `edge ${e.from} → ${e.to}`).toEqual([true, true]);
  return { nodes, edges };
}

describe("plan: the default config (no stack chosen)", () => {
  it("plans the defaults as a tree, even with several stack files, with no AWS and no Pulumi CLI", async () => {
    const runId = await runIdOf("example-input-bucket");
    const { code, stdout, stderr, ctx } = await cli(["plan"], offline(REPO));
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout).toBe(
      [
        `run ${runId}: 3 steps, 3 SubmitJob calls, 5 tasks → queue low`,
        "input s3://example-input-bucket/incoming/sample.bin (1,073,741,824 bytes, version sample-version-id)",
        "├─ prepare  1 task in 1 job",
        "│  └─ prepare  job (task 0)  def=process",
        "├─ process  3 tasks in 1 job",
        "│  └─ process  array ×3 (tasks 0–2)  def=process  after prepare",
        "└─ merge  1 task in 1 job",
        "   └─ merge  job (task 0)  def=process  after process",
        "submitted by a start job (orchestrator.mode container)",
        "",
      ].join("\n"),
    );
    expect(ctx.pulumiCalls).toEqual([]);
  });

  it.each([
    [{ mode: "container", wait: false }, 3, "submitted by a start job (orchestrator.mode container)"],
    [{ mode: "inline", wait: false }, 500, "submitted by the trigger itself, no start job (orchestrator.mode inline)"],
    [{ mode: "auto", wait: false }, 20, "submitted by the trigger itself, no start job (orchestrator.mode auto: 20 SubmitJob calls, at most 20)"],
    [{ mode: "auto", wait: false }, 21, "submitted by a start job (orchestrator.mode auto: 21 SubmitJob calls, more than 20)"],
    [{ mode: "auto", wait: true }, 1, "submitted by a start job (orchestrator.mode auto with wait)"],
  ] as const)("says who submits the DAG in AWS: %j, %i SubmitJob calls", (orchestrator, calls, line) => {
    expect(submittedBy(orchestrator, calls)).toBe(line);
  });

  it("--format mermaid: one node per step, labelled with width and jobs", async () => {
    const runId = await runIdOf("example-input-bucket");
    const { code, stdout } = await cli(["plan", "--format", "mermaid"], offline(REPO));
    expect(code).toBe(0);
    expect(stdout).toBe(
      [
        "flowchart TD",
        `  %% run ${runId}: 3 steps, 3 SubmitJob calls, 5 tasks; input s3://example-input-bucket/incoming/sample.bin (1,073,741,824 bytes)`,
        '  s0_prepare["prepare<br/>1 task · 1 job"]',
        '  s1_process["process<br/>3 tasks · 1 array job"]',
        '  s2_merge["merge<br/>1 task · 1 job"]',
        "  s0_prepare --> s1_process",
        "  s1_process --> s2_merge",
        "",
      ].join("\n"),
    );
    expect([...parseMermaid(stdout).nodes.keys()]).toEqual(["s0_prepare", "s1_process", "s2_merge"]);
  });
});

describe("plan --stack dev", () => {
  it("plans the stack's workflow for 10 GiB under its trigger prefix, its bucket named from the stack's prefix (the README's example)", async () => {
    const runId = await runIdOf(DEV_BUCKET);
    const { code, stdout, stderr } = await cli(["plan", "--stack", "dev", "--size", "10GiB"], offline(REPO));
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout.split("\n").slice(0, 2)).toEqual([
      `run ${runId}: 3 steps, 3 SubmitJob calls, 5 tasks → queue low`,
      `input s3://${DEV_BUCKET}/incoming/sample.bin (10,737,418,240 bytes, version sample-version-id)`,
    ]);
  });

  it("--format json is the orchestrator's planWorkflow for the stack: its id and tags, the queue and definitions by key, the trigger's run id", async () => {
    const { code, stdout } = await cli(["--stack", "dev", "plan", "--format", "json", "--size", "500MB"], offline(REPO));
    expect(code).toBe(0);
    expect(stdout.trimEnd().split("\n")).toHaveLength(1);
    const input = { bucket: DEV_BUCKET, key: "incoming/sample.bin", versionId: "sample-version-id", sizeBytes: 500_000_000 };
    const expected = planWorkflow(DEFAULT_WORKFLOW, {
      runId: await computeRunId(input),
      input,
      jobDefinitions: { process: "process", barrier: "barrier" },
      jobQueue: "low",
      stack: "batch-pipeline-dev-628b23",
      tags: { project: "batch-pipeline", environment: "dev" },
      outputRoot: "results/",
    });
    expect(JSON.parse(stdout)).toEqual(JSON.parse(JSON.stringify(expected)));
  });

  it("--json is --format json, as on every other command", async () => {
    const json = await cli(["--stack", "dev", "plan", "--json", "--size", "500MB"], offline(REPO));
    const format = await cli(["--stack", "dev", "plan", "--format", "json", "--size", "500MB"], offline(REPO));
    expect({ code: json.code, stderr: json.stderr }).toEqual({ code: 0, stderr: "" });
    expect(json.stdout).toBe(format.stdout);
    expect((await cli(["plan", "--json", "--format", "json"], offline(REPO))).code).toBe(0);
  });

  it("BATCH_PIPELINE_STACK chooses the stack too", async () => {
    const { stdout } = await cli(["plan"], offline(REPO, { BATCH_PIPELINE_STACK: "prod" }));
    expect(stdout).toContain("input s3://batch-pipeline-prod-");
  });

  it("with --outputs FILE, names the deployed bucket, process queue and job definitions, and still never runs pulumi", async () => {
    const file = join(tempDir(), "dev.outputs.json");
    writeFileSync(file, JSON.stringify(OUTPUTS));
    const { code, stdout, ctx } = await cli(["--stack", "dev", "--outputs", file, "plan"], offline(REPO));
    expect(code).toBe(0);
    const runId = await runIdOf(OUTPUTS.inputBucketName);
    expect(stdout.split("\n").slice(0, 4)).toEqual([
      `run ${runId}: 3 steps, 3 SubmitJob calls, 5 tasks → queue ${OUTPUTS.processQueueArn}`,
      `input s3://${OUTPUTS.inputBucketName}/incoming/sample.bin (1,073,741,824 bytes, version sample-version-id)`,
      "├─ prepare  1 task in 1 job",
      `│  └─ prepare  job (task 0)  def=${OUTPUTS.jobDefinitionNames.process}`,
    ]);
    expect(ctx.pulumiCalls).toEqual([]);
  });

  it("--key and --version-id give the run id the trigger computes for that object version", async () => {
    const { code, stdout, stderr } = await cli(["plan", "--stack", "dev", "--key", "incoming/2026/day.csv", "--version-id", "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"], offline(REPO));
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout.split("\n")[0]).toMatch(new RegExp(`^run ${await runIdOf(DEV_BUCKET, "incoming/2026/day.csv", "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY")}:`));
  });

  it("plans a key the trigger would ignore, and says why on stderr", async () => {
    const { code, stdout, stderr } = await cli(["plan", "--stack", "dev", "--key", "results/x.bin"], offline(REPO));
    expect(code).toBe(0);
    expect(stdout).toContain(`input s3://${DEV_BUCKET}/results/x.bin`);
    expect(stderr).toBe('note: the trigger starts no run for "results/x.bin": it is under trigger.outputPrefix "results/", which the trigger ignores so the pipeline never triggers itself\n');
  });
});

describe("plan: wide workflows", () => {
  it("shows a step of 1,000,000 tasks as one node of 100 array jobs, its fan-in's barriers as one node, N_TO_N edges labelled", async () => {
    const dir = project({ wide: { "batch-pipeline:workflow": wide(10_000) } });
    const { code, stdout } = await cli(["plan", "--stack", "wide", "--size", "10GB", "--format", "mermaid"], offline(dir));
    expect(code).toBe(0);
    const { nodes, edges } = parseMermaid(stdout);
    // Steps in the planner's order (dependency order; c-f are ready before b): s<index>_<name>.
    expect([...nodes.keys()]).toEqual(["s0_prepare", "s1_a", "s2_c", "s3_d", "s4_e", "s5_f", "s6_b", "s7_merge", "s7_merge_barriers"]);
    expect(nodes.get("s1_a")).toBe("a<br/>1,000,000 tasks · 100 array jobs");
    expect(nodes.get("s7_merge_barriers")).toBe("5 barrier jobs");
    expect(edges).toEqual(
      expect.arrayContaining([
        { from: "s1_a", to: "s6_b", label: "N_TO_N" },
        { from: "s6_b", to: "s7_merge_barriers" },
        { from: "s7_merge_barriers", to: "s7_merge" },
        // 100 jobs of `b` and `prepare` need 21 slots: 5 barriers take 85 of b's jobs, 15 stay direct.
        { from: "s6_b", to: "s7_merge" },
        { from: "s0_prepare", to: "s7_merge" },
      ]),
    );
    expect(edges.filter((e) => e.label)).toHaveLength(1);
  });

  it("counts the levels of a barrier tree (a fan-in of 500 jobs needs two)", async () => {
    const dir = project({ wide: { "batch-pipeline:workflow": wide(10_000, ["b", "c", "d", "e", "f"]) } });
    const { code, stdout } = await cli(["plan", "--stack", "wide", "--size", "10GB", "--format", "mermaid"], offline(dir));
    expect(code).toBe(0);
    const { nodes, edges } = parseMermaid(stdout);
    expect(nodes.get("s7_merge_barriers")).toMatch(/^\d+ barrier jobs in 2 levels$/);
    for (const step of ["s6_b", "s2_c", "s3_d", "s4_e", "s5_f"]) expect(edges).toContainEqual({ from: step, to: "s7_merge_barriers" });
  });

  it("writes a key with quotes, brackets and a newline only into the comment, as one line", async () => {
    const { code, stdout } = await cli(["plan", "--key", 'incoming/a "b" [c]\n{d}.bin', "--format", "mermaid"], offline(REPO));
    expect(code).toBe(0);
    expect(stdout.split("\n")[1]).toContain('input s3://example-input-bucket/incoming/a "b" [c]\\n{d}.bin');
    parseMermaid(stdout);
  });
});

describe("plan: what it refuses", () => {
  it("given a stack that does not validate, prints validate's lines on stderr and exits 1", async () => {
    const dir = project({ bad: { "batch-pipeline:compute": { spot: { maxVcpus: "32" } } } });
    const { code, stdout, stderr } = await cli(["plan", "--stack", "bad"], offline(dir));
    expect({ code, stdout }).toEqual({ code: 1, stdout: "" });
    expect(stderr).toBe(
      `error: stack bad (${join(dir, "Pulumi.bad.yaml")}) does not validate (1 problem), nothing planned:\n` +
        '    batch-pipeline:compute.spot.maxVcpus = "32": must be a number, not a string (write 32 without quotes)\n',
    );
  });

  // Widths cannot exceed 1,000,000 (the spec caps fixed, min and max; validation plans the largest size),
  // so what a sample input can still break is the request: a key JSON escapes is longer than the
  // 1,024-byte key validation plans with. ECS: "Container Overrides length must be at most 8192".
  it("given a key that pushes a step's container overrides past ECS's 8,192 characters, exits 1 naming the step", async () => {
    const workflow = (pad: number) => ({ steps: [{ name: "only", jobDefinition: "process", environment: { PAD: "x".repeat(pad) } }] });
    let fits = 0;
    for (let step = 4096; step >= 1; step /= 2) if (validates(workflow(fits + step))) fits += step;
    const dir = project({ big: { "batch-pipeline:workflow": workflow(fits) } });
    const key = `incoming/${'"'.repeat(1000)}`;
    const { code, stdout, stderr } = await cli(["plan", "--stack", "big", "--key", key], offline(dir));
    expect({ code, stdout }).toEqual({ code: 1, stdout: "" });
    expect(stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(stderr).toMatch(
      new RegExp(`^error: cannot plan stack big for s3://batch-pipeline-big-[0-9a-f]{6}-input/incoming/"{1000} \\(1,073,741,824 bytes\\): step \`only\`, job \`only\`: its container overrides are \\d+ characters as JSON, \\d+ with the \\d+ that Batch adds, over ECS's limit of ${MAX_CONTAINER_OVERRIDES_CHARS}`),
    );
  });

  it.each([
    [["--size", "10XB"], "error: option '--size <bytes>' argument '10XB' is invalid. must be a size in bytes (1073741824) or with a unit (500MB, 10GiB: B, KB, MB, GB, TB, KiB, MiB, GiB, TiB), at most 9,007,199,254,740,991 bytes"],
    [["--size", "9007199254740992"], "error: option '--size <bytes>' argument '9007199254740992' is invalid. must be a size in bytes"],
    [["--format", "svg"], "error: option '--format <format>' argument 'svg' is invalid. Allowed choices are tree, json, mermaid."],
    [["--json", "--format", "mermaid"], "error: --json is --format json: pass one of --json and --format mermaid"],
    [["--key", "k".repeat(1025)], "error: --key is 1025 bytes: S3 object keys are 1 to 1024 bytes of UTF-8"],
    [["--stack", "staging"], "error: no stack `staging`"],
  ])("given %j, exits 2: %s", async (args, message) => {
    const { code, stdout, stderr } = await cli(["plan", ...args], offline(REPO));
    expect({ code, stdout }).toEqual({ code: 2, stdout: "" });
    expect(stderr.startsWith(message)).toBe(true);
  });
});

describe("--json", () => {
  it("every command takes --json (the README: `--json` on every command)", () => {
    const commands = buildProgram(cliContext(), { code: 0 }).commands;
    expect(commands.map((c) => c.name())).toEqual(["validate", "plan", "run", "submit", "runs", "status", "watch", "logs", "cancel", "redrive"]);
    expect(commands.filter((c) => !c.options.some((o) => o.long === "--json")).map((c) => c.name())).toEqual([]);
  });
});

describe("--size", () => {
  it.each([
    ["1073741824", 1_073_741_824],
    ["0", 0],
    ["500MB", 500_000_000],
    ["10GiB", 10 * 2 ** 30],
    ["10gib", 10 * 2 ** 30],
    ["1.5KiB", 1536],
    ["2 TB", 2e12],
    ["5TiB", 5 * 2 ** 40],
  ])("reads %s as %d bytes", (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each(["", "-1", "1e3", "10 XB", "GiB", "0x10", "9007199254740992"])("refuses %j", (text) => {
    expect(() => parseSize(text)).toThrow(/must be a size in bytes/);
  });
});

function validates(workflow: unknown): boolean {
  try {
    parsePipelineConfig({ workflow });
    return true;
  } catch {
    return false;
  }
}
