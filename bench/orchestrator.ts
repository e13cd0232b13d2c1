/**
 * Benchmark: plan and submit fan-out/fan-in workflows of width 10, 10,000 and 1,000,000 against an
 * in-process Batch stub (50 SubmitJob/s token bucket, 20 ms latency, simulated clock), next to the
 * original proof of concept's naive one-job-per-task submission.
 *
 *   node --expose-gc --import tsx bench/orchestrator.ts      (npm run bench)
 */
import { SubmitJobCommand, type SubmitJobCommandInput } from "@aws-sdk/client-batch";
import { performance } from "node:perf_hooks";
import { planWorkflow, type PlanContext } from "../workflow/planner";
import { defaultWorkflow } from "../workflow/spec";
import { isThrottlingError } from "../batch/calls";
import { BATCH_COMMANDS } from "../batch/clients";
import { submitPlan } from "../batch/submitter";
import { BatchStub } from "./sim";
import { FakeClock } from "../tests/support/clock";

const WIDTHS = [10, 10_000, 1_000_000];
const MAX_DEPS = 20;
/** Planning a million tasks (the default workflow, 100 arrays, barrier trees) takes under this. */
const PLAN_MILLION_MS = 500;

interface Row {
  width: number;
  strategy: string;
  calls: number;
  throttled: number;
  simulatedMs: number;
  planningMs: number;
  peakHeapMiB: number;
}

/** Peak heap used, sampled from the stub's hot path (every call would cost more than the stub itself). */
class HeapMeter {
  peak = 0;
  private n = 0;
  sample(force = false): void {
    if (force || ++this.n % 512 === 0) this.peak = Math.max(this.peak, process.memoryUsage().heapUsed);
  }
}

function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) gc();
}

function context(width: number): PlanContext {
  return {
    runId: "0123456789abcdef01234567",
    input: { bucket: "bench-input", key: `inputs/width-${width}.bin`, sizeBytes: width * 1024 },
    jobDefinitions: { process: "process-def", barrier: "barrier-def" },
    jobQueue: "process-queue",
    stack: "bench",
  };
}

async function planned(width: number): Promise<Row> {
  const ctx = context(width);
  const spec = defaultWorkflow(width);
  planWorkflow(spec, ctx); // warm up the JIT so the timing is the steady state
  collectGarbage();
  const heap = new HeapMeter();
  heap.sample(true);
  const t0 = performance.now();
  const plan = planWorkflow(spec, ctx);
  const planningMs = performance.now() - t0;
  heap.sample(true);

  const clock = new FakeClock();
  const stub = new BatchStub(clock);
  const send = stub.client.send.bind(stub.client);
  const client = { send: ((command: never) => (heap.sample(), send(command))) as typeof send };
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  await clock.run(() => submitPlan(plan, { batch: client, commands: BATCH_COMMANDS, sleep: clock.sleep, random, concurrency: 4 }));
  heap.sample(true);
  return { width, strategy: "array+barriers", calls: stub.submitJobCalls, throttled: stub.throttled, simulatedMs: clock.now(), planningMs, peakHeapMiB: heap.peak / 2 ** 20 };
}

/**
 * The original's DAG, one job per task: prepare, `width` jobs after prepare, merge after all of them.
 * Merge cannot list more than 20 dependencies, so even the naive version needs a barrier tree; it is
 * streamed (a buffer of 20 ids per level) so the benchmark measures submission, not a giant array.
 */
function* naiveJobs(width: number): Generator<{ name: string; deps: string[] }> {
  yield { name: "prepare", deps: [] };
  const levels: string[][] = [[]];
  const barriers: { name: string; deps: string[] }[] = [];
  let made = 0;
  const push = (level: number, id: string) => {
    levels[level] ??= [];
    if (levels[level].length === MAX_DEPS) {
      const name = `merge-b${level + 1}-${made++}`;
      barriers.push({ name, deps: levels[level] });
      levels[level] = [];
      push(level + 1, name);
    }
    levels[level].push(id);
  };
  for (let i = 0; i < width; i++) {
    yield { name: `process-${i}`, deps: ["prepare"] };
    push(0, `process-${i}`);
    yield* barriers.splice(0);
  }
  for (let level = 0; ; level++) {
    const top = levels.length - 1 === level;
    if (top && levels[level].length <= MAX_DEPS) {
      yield { name: "merge", deps: levels[level] };
      return;
    }
    if (levels[level].length > 0) {
      const name = `merge-b${level + 1}-${made++}`;
      yield* barriers.splice(0);
      yield { name, deps: levels[level] };
      levels[level] = [];
      push(level + 1, name);
    }
    yield* barriers.splice(0);
  }
}

/** Like the original script: one SubmitJob at a time, in order, backing off a second when throttled. */
async function naive(width: number): Promise<Row> {
  // Planning for the naive strategy: generating every request once, without keeping them.
  const t0 = performance.now();
  let generated = 0;
  for (const job of naiveJobs(width)) generated += job.deps.length >= 0 ? 1 : 0;
  const planningMs = performance.now() - t0;
  collectGarbage();
  const heap = new HeapMeter();
  heap.sample(true);
  const clock = new FakeClock();
  const stub = new BatchStub(clock);
  const ctx = context(width);
  await clock.run(async () => {
    const ids = new Map<string, string>();
    for (const job of naiveJobs(width)) {
      const input: SubmitJobCommandInput = {
        jobName: `${ctx.runId}-${job.name}`,
        jobQueue: ctx.jobQueue,
        jobDefinition: job.name.startsWith("merge-b") ? "barrier-def" : "process-def",
        dependsOn: job.deps.map((d) => ({ jobId: ids.get(d)! })),
      };
      for (;;) {
        try {
          const out = (await stub.send(new SubmitJobCommand(input))) as { jobId: string };
          // Only prepare and the barrier level above each id are needed later; keep memory flat.
          for (const d of job.deps) if (d !== "prepare") ids.delete(d);
          ids.set(job.name, out.jobId);
          break;
        } catch (err) {
          if (!isThrottlingError(err)) throw err;
          await clock.sleep(1000);
        }
      }
      heap.sample();
    }
  });
  heap.sample(true);
  if (generated !== stub.accepted) throw new Error(`naive run submitted ${stub.accepted} of ${generated} jobs`);
  return { width, strategy: "naive 1 job/task", calls: stub.submitJobCalls, throttled: stub.throttled, simulatedMs: clock.now(), planningMs, peakHeapMiB: heap.peak / 2 ** 20 };
}

function duration(ms: number): string {
  if (ms < 1_000) return `${ms.toFixed(0)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(2)} h`;
}

function table(rows: Row[]): string {
  const head = ["width", "strategy", "SubmitJob calls", "throttled (429)", "simulated time", "planning (real ms)", "peak heap (MiB)"];
  const cells = rows.map((r) => [
    r.width.toLocaleString("en-US"),
    r.strategy,
    r.calls.toLocaleString("en-US"),
    r.throttled.toLocaleString("en-US"),
    duration(r.simulatedMs),
    r.planningMs.toFixed(2),
    r.peakHeapMiB.toFixed(1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => `| ${c.map((v, i) => (i < 2 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join(" | ")} |`;
  return [line(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...cells.map(line)].join("\n");
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  for (const width of WIDTHS) {
    rows.push(await planned(width));
    rows.push(await naive(width));
  }
  console.log(table(rows));
  console.log("");
  const checks = WIDTHS.map((width) => {
    const ours = rows.find((r) => r.width === width && r.strategy === "array+barriers")!;
    const theirs = rows.find((r) => r.width === width && r.strategy !== "array+barriers")!;
    return { width, ours, ratio: ours.calls / theirs.calls };
  });
  for (const { width, ours, ratio } of checks) {
    console.log(`width ${width.toLocaleString("en-US")}: ${ours.calls} calls = ${(ratio * 100).toFixed(4)}% of naive`);
  }
  const failures = [
    ...checks.filter((c) => c.width <= 10_000 && c.ours.calls > 3).map((c) => `width ${c.width}: ${c.ours.calls} > 3 SubmitJob calls`),
    ...checks.filter((c) => c.width === 1_000_000 && c.ratio >= 0.01).map(() => "width 1,000,000: not under 1% of naive calls"),
    ...checks.filter((c) => c.width === 1_000_000 && c.ours.planningMs >= PLAN_MILLION_MS).map((c) => `planning 1,000,000 tasks took ${c.ours.planningMs.toFixed(0)} ms, not under ${PLAN_MILLION_MS} ms`),
  ];
  if (failures.length > 0) {
    console.log(`TARGETS MISSED:\n- ${failures.join("\n- ")}`);
    process.exitCode = 1;
  } else {
    console.log(`targets met: ≤3 calls up to width 10,000; <1% of naive calls at 1,000,000; planning 1,000,000 tasks < ${PLAN_MILLION_MS} ms`);
  }
}

void main();
