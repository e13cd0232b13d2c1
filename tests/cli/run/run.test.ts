/**
 * `batch-pipeline run FILE --executor process` end to end, in-process: real processes on this machine,
 * the test context's fixed clock (so every duration shown is 0ms), output checked as printed.
 */
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { computeRunId } from "../../../contract/run";
import { findProject, stackNames } from "../../../stack/project";
import { offline, project, tempDir } from "../stackProject";
import { cli, cliContext, REPO } from "../support";
import { waitUntil } from "./processes";

const SAMPLE = join(REPO, "tests/cli/run/fixtures/sample.csv");
const HOST = { PATH: process.env.PATH ?? "" };
const BUSYBOX = "public.ecr.aws/docker/library/busybox:1.37";

const sampleRunId = () =>
  computeRunId({ bucket: "example-input-bucket", key: "incoming/sample.csv", versionId: `local-${createHash("sha256").update(readFileSync(SAMPLE)).digest("hex").slice(0, 32)}` });

/** Output with the temp dir and this machine's size made stable. */
const stable = (text: string, out: string) => text.replaceAll(out, "<out>").replace(/(at most \d+ tasks? at once), \d+ CPUs, [\d.]+ [KMGT]iB/g, "$1, <machine>");

/** A stack `local` in a temp project with these job definitions and workflow. */
function stack(jobDefinitions: object, workflow: object): string {
  return project({ local: { "batch-pipeline:jobDefinitions": jobDefinitions, "batch-pipeline:workflow": workflow } });
}

describe("run: the default workflow with the process executor (no AWS, no Pulumi CLI, no Docker)", () => {
  it("plans the file as the trigger's object, runs prepare → 3 × process → merge, shows the DAG, each change and the summary; exit 0", async () => {
    const out = tempDir("bp-run-");
    const runId = await sampleRunId();
    const ctx = offline(REPO, HOST);
    const { code, stdout, stderr } = await cli(["run", "tests/cli/run/fixtures/sample.csv", "--executor", "process", "--jobs", "1", "--out", out], ctx);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const header = (state: string, done: string, when: string) => [
      `run ${runId}  ${state}  ${done}/5 tasks done`,
      "input    s3://example-input-bucket/incoming/sample.csv",
      "         88 B (88 bytes), version local-53b381bb4e03ac31e39e445d6c28bfbc",
      `started  2026-12-01 12:00:00Z, ${when}`,
      `config   the defaults (no --stack; stacks here: ${stackNames(findProject(REPO)).join(", ")})`,
      "file     tests/cli/run/fixtures/sample.csv (PIPELINE_INPUT_PATH)",
      `output   <out>/${runId}/output (PIPELINE_OUTPUT_DIR), logs in <out>/${runId}/logs/<step>/<task>.log`,
      "runs on  process executor: at most 1 task at once, <machine>",
      "",
    ];
    expect(stable(stdout, out).split("\n")).toEqual([
      ...header("WAITING", "0", "0ms ago"),
      "├─ prepare  WAITING  0/1  ····················",
      "├─ process  WAITING  0/3  ····················",
      "│           3 pending",
      "└─ merge    WAITING  0/1  ····················",
      "",
      "  +0.0s  prepare     RUNNING    0/1 done",
      "  +0.0s  prepare     SUCCEEDED  1/1 done",
      "  +0.0s  process     RUNNING    0/3 done  1 running · 2 runnable",
      "  +0.0s  process     RUNNING    1/3 done  2 runnable",
      "  +0.0s  process     RUNNING    2/3 done  1 runnable",
      "  +0.0s  process     SUCCEEDED  3/3 done",
      "  +0.0s  merge       RUNNING    0/1 done",
      "  +0.0s  merge       SUCCEEDED  1/1 done",
      "",
      ...header("SUCCEEDED", "5", "took 0ms, ended 2026-12-01 12:00:00Z"),
      "├─ prepare  SUCCEEDED  1/1  ████████████████████  0ms",
      "├─ process  SUCCEEDED  3/3  ████████████████████  0ms",
      "└─ merge    SUCCEEDED  1/1  ████████████████████  0ms",
      "",
      `run ${runId} SUCCEEDED in 0ms: 5 tasks run, 0 failed, 0 retried; slowest step prepare (0ms)`,
      `output and logs: <out>/${runId}/`,
      "",
    ]);
    // Each task's output in its own file: every step runs the default definition's command (busybox sh).
    const logs = join(out, runId, "logs");
    expect(readFileSync(join(logs, "prepare", "0.log"), "utf8")).toBe("hello world from prepare task 0 of 1\n");
    expect(readdirSync(join(logs, "process")).sort()).toEqual(["0.log", "1.log", "2.log"]);
    expect(readFileSync(join(logs, "process", "2.log"), "utf8")).toBe("hello world from process task 2 of 3\n");
    expect(readFileSync(join(logs, "merge", "0.log"), "utf8")).toBe("hello world from merge task 0 of 1\n");
    expect(existsSync(join(out, runId, "output"))).toBe(true);
  });

  it("gives every task its environment as Batch would, the input file at PIPELINE_INPUT_PATH and PIPELINE_OUTPUT_DIR to write to", async () => {
    const script = 'echo "$AWS_BATCH_JOB_ID $AWS_BATCH_JOB_ATTEMPT ${AWS_BATCH_JOB_ARRAY_INDEX-none} $AWS_BATCH_JQ_NAME $PIPELINE_STEP $PIPELINE_INPUT_KEY $PIPELINE_OUTPUT_BUCKET $PIPELINE_OUTPUT_PREFIX $GREETING"; wc -l < "$PIPELINE_INPUT_PATH" > "$PIPELINE_OUTPUT_DIR/lines-${AWS_BATCH_JOB_ARRAY_INDEX-0}"';
    const dir = stack({ shell: { image: BUSYBOX, command: ["sh", "-c", script], environment: { GREETING: "hi" } } }, { steps: [{ name: "count", jobDefinition: "shell", width: { fixed: 2 } }] });
    const out = tempDir("bp-run-");
    const { code, stdout } = await cli(["run", SAMPLE, "--stack", "local", "--executor", "process", "--out", out], offline(dir, HOST));
    expect(code).toBe(0);
    const runId = /^run ([0-9a-f]{24}) /.exec(stdout)![1]!;
    const bucket = /input {4}s3:\/\/(\S+)\/incoming/.exec(stdout)![1]!;
    expect(bucket).toMatch(/^batch-pipeline-local-[0-9a-f]{6}-input$/);
    const line = readFileSync(join(out, runId, "logs", "count", "1.log"), "utf8").trim().split(" ");
    expect(line.slice(1)).toEqual(["1", "1", "low", "count", "incoming/sample.csv", bucket, `results/${runId}/`, "hi"]);
    expect(line[0]).toMatch(/^[0-9a-f-]{36}:1$/);
    expect(readFileSync(join(out, runId, "output", "lines-0"), "utf8").trim()).toBe("6");
    expect(readFileSync(join(out, runId, "output", "lines-1"), "utf8").trim()).toBe("6");
  });

  it("runs a wide workflow (222 tasks, a barrier fanning 22 steps into one) in seconds", async () => {
    const steps = Array.from({ length: 22 }, (_, i) => ({ name: `s${i}`, jobDefinition: "t", dependsOn: ["prepare"], width: { fixed: 10 } }));
    const dir = stack(
      { t: { image: BUSYBOX, command: ["true"], memoryMiB: 64 } },
      { steps: [{ name: "prepare", jobDefinition: "t" }, ...steps, { name: "merge", jobDefinition: "t", dependsOn: steps.map((s) => s.name) }] },
    );
    const out = tempDir("bp-run-");
    const started = Date.now();
    const { code, stdout } = await cli(["run", SAMPLE, "--stack", "local", "--executor", "process", "--out", out], offline(dir, HOST));
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(code).toBe(0);
    expect(stdout).toMatch(/SUCCEEDED in 0ms: 222 tasks run, 0 failed, 0 retried/);
    expect(stdout).toMatch(/└─ merge +SUCCEEDED +1\/1 .*\n +├─ merge +task 0 +SUCCEEDED +1\/1\n +└─ 1 barrier job +SUCCEEDED\n/);
  });
});

describe("run: which config it runs", () => {
  const configLine = (stdout: string) => stdout.split("\n").find((l) => l.startsWith("config "));
  const startEvent = (stdout: string) => JSON.parse(stdout.split("\n")[0]!) as { event: string; config: unknown };

  it("says it runs the defaults without --stack, naming the stacks there are; with --stack or BATCH_PIPELINE_STACK, the stack and its file; also in --json", async () => {
    const dir = project({ dev: {}, prod: {} });
    const run = (args: string[], env: Record<string, string> = {}, cwd = dir) => cli(["run", SAMPLE, "--executor", "process", "--out", tempDir("bp-run-"), ...args], offline(cwd, { ...HOST, ...env }));

    const defaults = await run([]);
    expect(defaults.code).toBe(0);
    expect(configLine(defaults.stdout)).toBe("config   the defaults (no --stack; stacks here: dev, prod)");
    expect(configLine((await run(["--stack", "dev"])).stdout)).toBe("config   stack dev (Pulumi.dev.yaml)");
    expect(configLine((await run([], { BATCH_PIPELINE_STACK: "prod" })).stdout)).toBe("config   stack prod (Pulumi.prod.yaml, from BATCH_PIPELINE_STACK)");
    expect(configLine((await run([], {}, tempDir("bp-no-project-"))).stdout)).toBe("config   the defaults (no --stack; no stack files here)");

    expect(startEvent((await run(["--json"])).stdout)).toMatchObject({ event: "start", config: { stack: null, stacks: ["dev", "prod"] } });
    expect(startEvent((await run(["--json", "--stack", "dev"])).stdout)).toMatchObject({ event: "start", config: { stack: "dev", file: join(dir, "Pulumi.dev.yaml"), chosenBy: "--stack" } });
  });
});

describe("run: again, and a file the trigger would ignore", () => {
  it("replaces the previous run of the same file (same content, same run id), saying so", async () => {
    const out = tempDir("bp-run-");
    const first = await cli(["run", SAMPLE, "--executor", "process", "--out", out], offline(REPO, HOST));
    const runId = /^run ([0-9a-f]{24}) /.exec(first.stdout)![1]!;
    writeFileSync(join(out, runId, "output", "left-over"), "x");
    const again = await cli(["run", SAMPLE, "--executor", "process", "--out", out], offline(REPO, HOST));
    expect(again.code).toBe(0);
    expect(again.stderr).toBe(`note: replacing the previous local run of this file in ${join(out, runId)}\n`);
    expect(existsSync(join(out, runId, "output", "left-over"))).toBe(false);
  });

  it("refuses to start while a live run of the same file holds its folder's lock (exit 2, naming its pid and the folder), touching nothing there", async () => {
    const out = tempDir("bp-run-");
    const runDir = join(out, await sampleRunId());
    mkdirSync(join(runDir, "output"), { recursive: true });
    writeFileSync(join(runDir, "output", "theirs"), "x");
    writeFileSync(join(runDir, ".lock"), `${process.pid}\n`);
    const { code, stdout, stderr } = await cli(["run", SAMPLE, "--executor", "process", "--out", out], offline(REPO, HOST));
    expect({ code, stdout }).toEqual({ code: 2, stdout: "" });
    expect(stderr).toBe(
      `error: another run of this file is running in ${runDir} (pid ${process.pid}; lock ${join(runDir, ".lock")}): it would delete that run's output and logs; ` +
        "wait for it to end or stop it, or pass --out DIR to run this one in another folder\n",
    );
    expect(readdirSync(runDir).sort()).toEqual([".lock", "output"]);
    expect(readFileSync(join(runDir, "output", "theirs"), "utf8")).toBe("x");
    expect(readFileSync(join(runDir, ".lock"), "utf8")).toBe(`${process.pid}\n`);
  });

  it("takes over the lock of a run that ended without removing it (its pid gone), and removes its own at the end", async () => {
    const out = tempDir("bp-run-");
    const runDir = join(out, await sampleRunId());
    const dead = spawnSync("true").pid!;
    mkdirSync(runDir, { recursive: true });
    writeFileSync(join(runDir, ".lock"), `${dead}\n`);
    const { code, stderr } = await cli(["run", SAMPLE, "--executor", "process", "--out", out], offline(REPO, HOST));
    expect(code).toBe(0);
    expect(stderr).toBe(`note: a run of this file (pid ${dead}) ended without removing its lock: taking it over\n`);
    expect(readdirSync(runDir).sort()).toEqual(["logs", "output"]);
  });

  it("two runs of the same file at once: the second is refused (exit 2) and the first runs to its end in its folder, untouched", async () => {
    // The task says it started, then waits (10 s at most) for the test to let it end.
    const script = 'touch "$PIPELINE_OUTPUT_DIR/started"; i=0; while [ ! -e "$PIPELINE_OUTPUT_DIR/go" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done';
    const dir = stack({ wait: { image: BUSYBOX, command: ["sh", "-c", script] } }, { steps: [{ name: "wait", jobDefinition: "wait" }] });
    const out = tempDir("bp-run-");
    const argv = ["run", SAMPLE, "--stack", "local", "--executor", "process", "--out", out];
    const first = cli(argv, offline(dir, HOST));
    const outputOf = () => readdirSync(out).map((runId) => join(out, runId, "output"))[0];
    await waitUntil(() => existsSync(out) && outputOf() !== undefined && existsSync(join(outputOf()!, "started")), 10_000);
    const output = outputOf()!;
    expect(existsSync(join(output, "started"))).toBe(true);

    const second = await cli(argv, offline(dir, HOST));
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(new RegExp(`^error: another run of this file is running in ${dirname(output)} \\(pid ${process.pid}; `));

    writeFileSync(join(output, "go"), "");
    const ended = await first;
    expect(ended.code).toBe(0);
    expect(ended.stderr).toBe("");
    expect(readdirSync(output).sort()).toEqual(["go", "started"]);
    expect(existsSync(join(dirname(output), ".lock"))).toBe(false);
  }, 20_000);

  it("runs a file whose key the trigger would ignore, after saying why", async () => {
    const dir = project({ local: { "batch-pipeline:trigger": { prefix: "incoming/", suffix: ".bin" } } });
    const { code, stderr } = await cli(["run", SAMPLE, "--stack", "local", "--executor", "process", "--out", tempDir("bp-run-")], offline(dir, HOST));
    expect(code).toBe(0);
    expect(stderr).toBe('note: in AWS the trigger would start no run for "incoming/sample.csv": it does not end with trigger.suffix ".bin"; running it anyway\n');
  });
});

describe("run: failures, refusals and usage", () => {
  it("fails the dependents of a failing step without running them, runs its siblings, lists the failures with their log files; exit 1", async () => {
    const dir = stack(
      { ok: { image: BUSYBOX, command: ["true"] }, bad: { image: BUSYBOX, command: ["sh", "-c", 'echo "task $AWS_BATCH_JOB_ARRAY_INDEX broke" >&2; [ "$AWS_BATCH_JOB_ARRAY_INDEX" != 1 ]'] } },
      {
        steps: [
          { name: "bad", jobDefinition: "bad", width: { fixed: 3 } },
          { name: "sibling", jobDefinition: "ok", width: { fixed: 2 } },
          { name: "after", jobDefinition: "ok", dependsOn: ["bad"] },
        ],
      },
    );
    const out = tempDir("bp-run-");
    const { code, stdout } = await cli(["run", SAMPLE, "--stack", "local", "--executor", "process", "--out", out], offline(dir, HOST));
    expect(code).toBe(1);
    const runId = /^run ([0-9a-f]{24}) /.exec(stdout)![1]!;
    const tail = stable(stdout, out).split("\n").slice(-14);
    expect(tail).toEqual([
      "├─ bad      FAILED     2/3  ██████████████✗✗✗✗✗✗  0ms",
      "│           1 failed",
      "├─ sibling  SUCCEEDED  2/2  ████████████████████  0ms",
      "└─ after    FAILED     0/1  ✗✗✗✗✗✗✗✗✗✗✗✗✗✗✗✗✗✗✗✗",
      "",
      "failed",
      "  bad: 1 of 3 tasks failed",
      "    task 1  exit 1  Essential container in task exited",
      `      <out>/${runId}/logs/bad/1.log`,
      "  after: Dependent Job failed (never ran)",
      "",
      `run ${runId} FAILED in 0ms: 5 of 6 tasks run, 2 failed (1 never ran: a dependency failed), 0 retried; slowest step bad (0ms)`,
      `output and logs: <out>/${runId}/`,
      "",
    ]);
    expect(stdout).toContain("bad[1]      FAILED exit 1 (Essential container in task exited) after 1 attempt");
    expect(readFileSync(join(out, runId, "logs", "bad", "1.log"), "utf8")).toBe("task 1 broke\n");
  });

  it.each([
    ["an image it cannot stand in for", { image: "ghcr.io/acme/tools:1.2", command: ["sh", "-c", "true"] }, /^error: jobDefinitions\.job runs `sh` in image ghcr\.io\/acme\/tools:1\.2, which the process executor cannot stand in for: .* use --executor docker\n$/],
    ["a program not on this machine's PATH", { image: BUSYBOX, command: ["no-such-program-here", "x"] }, /runs `no-such-program-here` \(image .*busybox:1\.37\), which is not on this machine's PATH: .* install no-such-program-here or use --executor docker/],
    ["no command (the image's own)", { image: BUSYBOX }, /sets no command, so the image's own would run/],
    ["a task larger than the machine", { image: BUSYBOX, command: ["true"], memoryMiB: 64 * 1024 * 1024 }, /jobDefinitions\.job needs 1 vCPUs and 67,108,864 MiB per task, and this machine has \d+ CPUs and [\d,]+ MiB: its tasks could never start here/],
  ])("refuses %s before running anything; exit 2", async (_what, definition, message) => {
    const dir = stack({ job: definition }, { steps: [{ name: "only", jobDefinition: "job" }] });
    const out = tempDir("bp-run-");
    const { code, stdout, stderr } = await cli(["run", SAMPLE, "--stack", "local", "--executor", "process", "--out", out], offline(dir, HOST));
    expect({ code, stdout }).toEqual({ code: 2, stdout: "" });
    expect(stderr).toMatch(message);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(readdirSync(out)).toEqual([]);
  });

  it.each([
    [["run", "no/such/file.csv", "--executor", "process"], /^error: cannot read .*no\/such\/file\.csv: ENOENT; pass an existing file\n$/],
    [["run", "tests", "--executor", "process"], /is not a file: `run` takes the file a run is for/],
    [["run", SAMPLE, "--jobs", "0", "--executor", "process"], /^error: --jobs 0: must be a whole number of tasks at once, at least 1/],
    [["run", SAMPLE, "--executor", "kubernetes"], /argument 'kubernetes' is invalid. Allowed choices are docker, process/],
  ])("%j is a usage error (exit 2)", async (argv, message) => {
    const { code, stderr } = await cli(argv as string[], offline(REPO, HOST));
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });

  it("names each definition whose image it cannot stand in for once, whichever steps use it", async () => {
    const dir = stack({ tools: { image: "ghcr.io/acme/tools:1.2", command: ["tool", "--version"] } }, { steps: ["a", "b", "c"].map((name) => ({ name, jobDefinition: "tools" })) });
    const { code, stderr } = await cli(["run", SAMPLE, "--stack", "local", "--executor", "process", "--out", tempDir("bp-run-")], offline(dir, HOST));
    expect(code).toBe(2);
    expect(stderr.trim().split("\n")).toEqual([expect.stringMatching(/^error: jobDefinitions\.tools runs `tool` in image ghcr\.io\/acme\/tools:1\.2, which the process executor cannot stand in for/)]);
  });

  it("refuses a stack that does not validate with validate's lines; exit 1", async () => {
    const dir = project({ local: { "batch-pipeline:compute": { spot: { maxVcpus: "32" } } } });
    const { code, stdout, stderr } = await cli(["run", SAMPLE, "--stack", "local", "--executor", "process"], offline(dir, HOST));
    expect({ code, stdout }).toEqual({ code: 1, stdout: "" });
    expect(stderr).toMatch(/^error: stack local \(.*Pulumi\.local\.yaml\) does not validate \(1 problem\), nothing planned:\n {4}batch-pipeline:compute\.spot\.maxVcpus/);
  });
});

describe("run: --json, --follow and a terminal", () => {
  it("--json prints one JSON line per event (with --follow, each line a task prints) and nothing else on stdout", async () => {
    const out = tempDir("bp-run-");
    const { code, stdout } = await cli(["run", SAMPLE, "--executor", "process", "--jobs", "1", "--out", out, "--json", "--follow"], offline(REPO, HOST));
    expect(code).toBe(0);
    const events = stdout.trimEnd().split("\n").map((l) => JSON.parse(l) as { event: string; [k: string]: unknown });
    expect(events[0]).toMatchObject({ event: "start", runId: await sampleRunId(), tasks: 5, executor: "process", maxTasks: 1, steps: [{ step: "prepare", width: 1 }, { step: "process", width: 3 }, { step: "merge", width: 1 }] });
    expect(events.filter((e) => e.event === "task").map((e) => `${e.step}[${e.task}] ${e.status}`)).toEqual(["prepare[0] SUCCEEDED", "process[0] SUCCEEDED", "process[1] SUCCEEDED", "process[2] SUCCEEDED", "merge[0] SUCCEEDED"]);
    expect(events.filter((e) => e.event === "step").map((e) => `${e.step} ${e.state}`)).toEqual(["prepare RUNNING", "prepare SUCCEEDED", "process RUNNING", "process SUCCEEDED", "merge RUNNING", "merge SUCCEEDED"]);
    expect(events.filter((e) => e.event === "log").map((e) => `${e.step}[${e.task}] ${e.message}`)).toEqual(["prepare[0] hello world from prepare task 0 of 1", "process[0] hello world from process task 0 of 3", "process[1] hello world from process task 1 of 3", "process[2] hello world from process task 2 of 3", "merge[0] hello world from merge task 0 of 1"]);
    expect(events.at(-1)).toMatchObject({ event: "end", state: "SUCCEEDED", exitCode: 0, tasks: 5, run: 5, failed: 0, retried: 0, failures: [] });
    expect(events.every((e) => e.at === "2026-12-01T12:00:00.000Z")).toBe(true);
  });

  it("--follow streams every line the tasks print, prefixed by step and task as `logs` prints them", async () => {
    const out = tempDir("bp-run-");
    const { code, stdout } = await cli(["run", SAMPLE, "--executor", "process", "--out", out, "--follow"], offline(REPO, HOST));
    expect(code).toBe(0);
    expect(stdout.split("\n").filter((l) => /^(prepare|process\[\d\]|merge) +\S/.test(l)).sort()).toEqual([
      "merge       hello world from merge task 0 of 1",
      "prepare     hello world from prepare task 0 of 1",
      "process[0]  hello world from process task 0 of 3",
      "process[1]  hello world from process task 1 of 3",
      "process[2]  hello world from process task 2 of 3",
    ]);
  });

  it("on a TTY, draws the screen in place (live lines cut to the width), --follow lines above it, and ends with the whole final screen and the summary", async () => {
    const ctx = cliContext({ isTTY: true, columns: 70, env: HOST, pulumiOutputs: null });
    const out = tempDir("bp-run-");
    const { code, stdout } = await cli(["run", SAMPLE, "--executor", "process", "--out", out, "--follow"], ctx);
    expect(code).toBe(0);
    expect(stdout.startsWith("\x1b[?25l")).toBe(true);
    expect(stdout.endsWith("\x1b[?25h")).toBe(true);
    const visible = (line: string) => line.replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, "");
    const first = stdout.slice(0, stdout.indexOf("\x1b[J")).split("\n").slice(0, -1);
    expect(first.length).toBeGreaterThan(10);
    for (const line of first) expect(visible(line).length).toBeLessThan(70);
    const last = stdout.slice(stdout.lastIndexOf("\x1b[J") + 3);
    // Printed above the screen at the next redraw, whichever it is.
    expect(visible(stdout).split("\n").filter((l) => /^(prepare|process\[\d\]|merge) +\S/.test(l)).sort()).toEqual(["merge       hello world from merge task 0 of 1", "prepare     hello world from prepare task 0 of 1", "process[0]  hello world from process task 0 of 3", "process[1]  hello world from process task 1 of 3", "process[2]  hello world from process task 2 of 3"]);
    expect(last).toContain("└─ merge    SUCCEEDED  1/1  ██████████  0ms\x1b[K\n");
    expect(visible(last)).toMatch(/SUCCEEDED in 0ms: 5 tasks run, 0 failed, 0 retried; slowest step prepare \(0ms\)\noutput and logs: .*\/\n/);
  });
});

describe("run: a file's name never becomes shell code (issue 17)", () => {
  const NAME = "data$(touch PWNED;id).csv";
  /** Every path named PWNED under these folders. */
  const pwned = (...dirs: string[]): string[] =>
    dirs.flatMap((dir) => (readdirSync(dir, { recursive: true }) as string[]).filter((p) => p.split("/").includes("PWNED")).map((p) => join(dir, p)));
  const hostile = () => {
    const data = tempDir("bp-data-");
    writeFileSync(join(data, NAME), "a,b\n1,2\n");
    return { data, file: join(data, NAME) };
  };

  it("runs a safe command (the key as its own argument, the variable quoted) and nothing in the name", async () => {
    const { data, file } = hostile();
    const script = 'wc -l < "$PIPELINE_INPUT_PATH" > /dev/null; echo "arg: $1"; echo "env: $PIPELINE_INPUT_KEY"';
    const dir = stack({ safe: { image: BUSYBOX, command: ["sh", "-c", script, "sh", "Ref::key"] } }, { steps: [{ name: "only", jobDefinition: "safe" }] });
    const out = tempDir("bp-run-");
    const { code, stdout, stderr } = await cli(["run", file, "--stack", "local", "--executor", "process", "--out", out], offline(dir, HOST));
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    const runId = /^run ([0-9a-f]{24}) /.exec(stdout)![1]!;
    expect(readFileSync(join(out, runId, "logs", "only", "0.log"), "utf8")).toBe(`arg: incoming/${NAME}\nenv: incoming/${NAME}\n`);
    expect(pwned(data, dir, out)).toEqual([]);
  });

  it("refuses Ref::key inside sh -c before running anything, naming the definition, the argument and the fix", async () => {
    const { data, file } = hostile();
    const dir = stack({ unsafe: { image: BUSYBOX, command: ["sh", "-c", "cat Ref::key > /dev/null"] } }, { steps: [{ name: "only", jobDefinition: "unsafe" }] });
    const out = tempDir("bp-run-");
    const { code, stdout, stderr } = await cli(["run", file, "--stack", "local", "--executor", "process", "--out", out], offline(dir, HOST));
    expect({ code, stdout }).toEqual({ code: 1, stdout: "" });
    expect(stderr).toContain(`batch-pipeline:jobDefinitions.unsafe.command[2] = "cat Ref::key > /dev/null": argument 2 ("cat Ref::key > /dev/null") puts Ref::key inside the script of \`sh -c\``);
    expect(stderr).toContain(`pass it as its own argument after the script (sh -c 'cat "$1"' sh Ref::key) or read "$PIPELINE_INPUT_KEY" quoted`);
    expect(readdirSync(out)).toEqual([]);
    expect(pwned(data, dir, out)).toEqual([]);
  });
});
