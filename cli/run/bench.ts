/**
 * Benchmark of `batch-pipeline run`: a fan-out/fan-in of 10,000 trivial tasks (`true`), on this machine.
 * - scheduler: the plan's model run on an executor that starts nothing (what the scheduler costs alone),
 *   for this fan-out/fan-in and for a wide workflow (24,002 tasks: arrays split at 10,000, N_TO_N twins,
 *   25 fan-out steps fanned back in through barrier trees; target: under 1 s);
 * - bare spawns: the same 10,002 `true` processes spawned directly, as many at once (the commands' cost);
 * - `run`: the whole command (planning, scheduler, process executor, log files, plain view).
 * Overhead per task = (`run` − bare spawns) / tasks; the target is under 1 ms.
 *
 *   node --import tsx cli/run/bench.ts      (part of npm run bench)
 */
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { stringify } from "yaml";
import { type CliContext, processContext } from "../app/context";
import { runCli } from "../app/program";
import { parsePipelineConfig } from "../../stack/config";
import { type Target } from "../stack/target";
import { noopExecutor, systemClock } from "./executor";
import { buildModel } from "./model";
import { localPlan } from "./plan";
import { LocalScheduler } from "./scheduler";

const WIDTH = 10_000;
const PARALLEL = availableParallelism();
const CONFIG = {
  jobDefinitions: { t: { image: "public.ecr.aws/docker/library/busybox:1.37", command: ["true"], memoryMiB: 64 } },
  workflow: {
    steps: [
      { name: "prepare", jobDefinition: "t" },
      { name: "process", jobDefinition: "t", dependsOn: ["prepare"], width: { fixed: WIDTH } },
      { name: "merge", jobDefinition: "t", dependsOn: ["process"] },
    ],
  },
};
const TASKS = WIDTH + 2;
/**
 * A wide workflow of `definition`: 24,002 tasks over arrays split at 10,000, N_TO_N twins, and 25
 * fan-out steps fanned back in through barrier trees (tests/cli/run/scheduler.test.ts runs it too).
 */
export function wideWorkflow(definition: string) {
  const fanOut = Array.from({ length: 25 }, (_, i) => ({ name: `s${i}`, jobDefinition: definition, dependsOn: ["prepare"], width: { fixed: 100 } }));
  return {
    steps: [
      { name: "prepare", jobDefinition: definition },
      { name: "a", jobDefinition: definition, dependsOn: ["prepare"], width: { fixed: 10_750 } },
      { name: "b", jobDefinition: definition, dependsOn: [{ step: "a", type: "N_TO_N" }], width: { fixed: 10_750 } },
      ...fanOut,
      { name: "merge", jobDefinition: definition, dependsOn: ["b", ...fanOut.map((s) => s.name)] },
    ],
  };
}
const WIDE = { jobDefinitions: CONFIG.jobDefinitions, workflow: wideWorkflow("t") };
const WIDE_TASKS = 1 + 10_750 * 2 + 2_500 + 1;
/** The wide workflow's scheduler alone takes under this. */
const WIDE_MS = 1000;

/** Planning and the scheduler alone on `config`'s workflow: the best of five rounds. */
async function schedulerAlone(config: Record<string, unknown>): Promise<{ planMs: number; runMs: number }> {
  const target: Target = { what: "bench", source: { stacks: [] }, config: parsePipelineConfig(config), stackId: "bench", bucket: "bench-input" };
  const input = { file: "/dev/null", bucket: "bench-input", key: "incoming/bench.bin", versionId: "local-bench", sizeBytes: 0 };
  let best = { planMs: Infinity, runMs: Infinity };
  for (let round = 0; round < 5; round++) {
    const t0 = performance.now();
    const planned = await localPlan(target, input, undefined);
    const executor = noopExecutor();
    const model = buildModel(planned.plan, planned.definitionsByName, executor.paths);
    const t1 = performance.now();
    await new LocalScheduler(model, { executor, clock: systemClock, maxTasks: PARALLEL, cpus: PARALLEL, memoryMiB: 1 << 20 }).run();
    const t2 = performance.now();
    best = { planMs: Math.min(best.planMs, t1 - t0), runMs: Math.min(best.runMs, t2 - t1) };
  }
  return best;
}

/** `true` spawned TASKS times, PARALLEL at once, each with its own log file: the commands' own cost. */
async function bareSpawns(dir: string): Promise<number> {
  mkdirSync(dir, { recursive: true });
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    let started = 0;
    let ended = 0;
    const next = () => {
      while (started - ended < PARALLEL && started < TASKS) {
        const fd = openSync(join(dir, `${started++}.log`), "w");
        const child = spawn("true", [], { detached: true, stdio: ["ignore", fd, fd], env: { PATH: process.env.PATH ?? "" } });
        closeSync(fd);
        child.on("error", reject);
        child.on("close", () => (++ended === TASKS ? resolve() : next()));
      }
    };
    next();
  });
  return performance.now() - t0;
}

/** The whole `batch-pipeline run` on the process executor, its screen thrown away. */
async function wholeCommand(dir: string): Promise<{ ms: number; code: number }> {
  writeFileSync(join(dir, "Pulumi.yaml"), stringify({ name: "batch-pipeline", runtime: "nodejs" }));
  writeFileSync(join(dir, "Pulumi.bench.yaml"), stringify({ config: Object.fromEntries(Object.entries(CONFIG).map(([k, v]) => [`batch-pipeline:${k}`, v])) }));
  writeFileSync(join(dir, "input.bin"), "bench\n");
  const base = processContext(new AbortController().signal, { color: false });
  const ctx: CliContext = { ...base, cwd: dir, term: { ...base.term, out: () => undefined, err: (t) => void process.stderr.write(t), isTTY: false } };
  const t0 = performance.now();
  const code = await runCli(["run", "input.bin", "--stack", "bench", "--executor", "process", "--out", join(dir, "runs")], ctx);
  return { ms: performance.now() - t0, code };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
  return [line(rows[0]!), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.slice(1).map(line)].join("\n");
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "bp-bench-"));
  try {
    const alone = await schedulerAlone(CONFIG);
    const wide = await schedulerAlone(WIDE);
    const bare = await bareSpawns(join(dir, "bare"));
    const whole = await wholeCommand(dir);
    if (whole.code !== 0) throw new Error(`batch-pipeline run exited ${whole.code}`);
    const perTask = (ms: number) => `${((ms * 1000) / TASKS).toFixed(1)} µs`;
    const overhead = (whole.ms - bare) / TASKS;
    console.log(`local run: fan-out/fan-in of ${WIDTH.toLocaleString("en-US")} tasks (\`true\`), ${TASKS.toLocaleString("en-US")} tasks, ${PARALLEL} at once (this machine's CPUs)`);
    console.log(
      table([
        ["what", "wall time", "per task"],
        ["planning + model (10,002 tasks)", `${alone.planMs.toFixed(1)} ms`, perTask(alone.planMs)],
        ["scheduler alone (no-op executor)", `${alone.runMs.toFixed(1)} ms`, perTask(alone.runMs)],
        [`wide workflow (${WIDE_TASKS.toLocaleString("en-US")} tasks): scheduler alone`, `${wide.runMs.toFixed(1)} ms`, `${((wide.runMs * 1000) / WIDE_TASKS).toFixed(1)} µs`],
        ["bare spawns of `true`", `${(bare / 1000).toFixed(2)} s`, perTask(bare)],
        ["batch-pipeline run --executor process", `${(whole.ms / 1000).toFixed(2)} s`, perTask(whole.ms)],
        ["overhead beyond the commands", `${((whole.ms - bare) / 1000).toFixed(2)} s`, `${(overhead * 1000).toFixed(1)} µs`],
      ]),
    );
    const missed = [
      ...(alone.runMs / TASKS >= 1 ? ["scheduler alone ≥ 1 ms per task"] : []),
      ...(wide.runMs >= WIDE_MS ? [`wide workflow: scheduler alone ${wide.runMs.toFixed(0)} ms, not under ${WIDE_MS} ms`] : []),
      ...(overhead >= 1 ? ["batch-pipeline run ≥ 1 ms per task beyond the commands"] : []),
    ];
    if (missed.length > 0) {
      console.log(`TARGETS MISSED:\n- ${missed.join("\n- ")}`);
      process.exitCode = 1;
    } else console.log(`targets met: under 1 ms of overhead per task beyond the commands themselves; the wide workflow's scheduler under ${WIDE_MS} ms`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Run as a script (npm run bench:local), not when a test imports wideWorkflow.
if (require.main === module) void main();
