/**
 * Latency benchmark: from an upload's event to every job of its run's DAG accepted by Batch, for each
 * `orchestrator.mode`, against the local AWS-compatible endpoint (tests/e2e/awsStub.ts: the Batch model over
 * HTTP, DynamoDB for the idempotency record), through the real code paths in fresh Node processes:
 * - inline: the serialized inline trigger Lambda (`inlineTriggerHandlerFactory(DEFAULT_WORKFLOW)`,
 *   tests/e2e/inlineLambdaProbe.ts, packaged by scripts/lambda-package.cjs as CallbackFunction would) invoked
 *   with the S3 event: it claims the run and submits the DAG itself;
 * - container: the serialized container-mode trigger Lambda (`triggerHandlerFactory`) submitting the start job,
 *   then the bundled orchestrator (jobs/build.mjs, the image's entry point) started with that start job's
 *   environment, submitting the DAG.
 * Measured: loopback latency, each process's cold start (Node, the SDK, Powertools or the bundle) included. Not
 * measured, MODELLED and stated as inputs: the time Batch takes from a start job's SubmitJob to its container
 * running (scheduling, instance or task start, image pull), which the inline mode does not have.
 *
 *   npx tsx bench/latency.ts [--runs 15]     (npm run bench:latency)
 *
 * Prints a markdown table: mode, measured ms (median / p95 over the runs), modelled scheduling, total.
 * No targets here or in the tests: it reports.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import * as path from "node:path";
import { encodeJobDefinitions, encodeWorkflow } from "../contract";
import { DEFAULT_WORKFLOW } from "../workflow/spec";
import { startAwsStub, type AwsStub } from "../tests/e2e/awsStub";
import { lambdaEnv, s3Event, STACK } from "../tests/e2e/lambda";
import { builtLambdas } from "../tests/e2e/lambdaBuild";
import { awsEnv, lastJsonLine, ROOT, runNode } from "../tests/e2e/node";
import { DEFAULT_BURST } from "./burst";

/**
 * From a start job's SubmitJob to its container running, in seconds: MODELLED inputs, not measured here. The
 * warm EC2 figure is the burst benchmark's (bench/burst.ts `startJobStartupSeconds`, an assumption: "tens of
 * seconds"); AWS documents no figure for any of them.
 */
export const START_JOB_SCHEDULING: readonly { name: string; seconds: number; range: string; source: string }[] = [
  {
    name: "warm EC2 environment",
    seconds: DEFAULT_BURST.startJobStartupSeconds,
    range: "tens of seconds",
    source: "assumption, bench/burst.ts startJobStartupSeconds: scheduling on a running instance and the image pull",
  },
  {
    name: "EC2, minVcpus 0 (cold instance boot)",
    seconds: 180,
    range: "2–5 min",
    source: "assumption: Batch scales the environment up, the instance boots and joins ECS, then the image pull",
  },
  { name: "Fargate", seconds: 60, range: "30–90 s", source: "assumption: task provisioning and the image pull (no warm capacity to reuse)" },
];

const PROCESS_QUEUE = "arn:aws:batch:eu-west-1:123456789012:job-queue/low";
const JOB_DEFINITIONS = { process: "process-def", barrier: "barrier-def" };
const INLINE_ENV = { ORCHESTRATOR_MODE: "inline", PIPELINE_PROCESS_QUEUE: PROCESS_QUEUE, PIPELINE_JOB_DEFINITIONS: encodeJobDefinitions(JOB_DEFINITIONS), PIPELINE_OUTPUT_ROOT: "results/" };

async function run(script: string, args: string[], env: Record<string, string | undefined>, opts: { cwd?: string; input?: string } = {}): Promise<string> {
  const out = await runNode([script, ...args], { env, ...opts });
  if (out.code !== 0) throw new Error(`${path.basename(script)} exited ${out.code}: ${out.stderr}`);
  return out.stdout;
}

/**
 * The two Lambdas, from the end-to-end tests' one build (tests/e2e/lambdaBuild.ts: packaged as CallbackFunction
 * would, cached by their sources), and the orchestrator's bundle, built into `dir`.
 */
async function build(dir: string): Promise<{ inline: string; container: string; orchestrator: string }> {
  const lambdas = await builtLambdas();
  const orchestrator = path.join(dir, "orchestrator.js");
  await run(path.join(ROOT, "jobs", "build.mjs"), [], { ...process.env, ORCHESTRATOR_OUTFILE: orchestrator }, { cwd: ROOT });
  return { inline: path.join(lambdas.dir, "inlineDefault"), container: path.join(lambdas.dir, "triggerHandlerFactory"), orchestrator };
}

const invokeScript = path.join(ROOT, "scripts", "lambda-invoke.cjs");
const dagOf = (stub: AwsStub, runId: string) => stub.jobs.filter((j) => j.jobName.startsWith(`${runId}-`));

/** The inline trigger, from its invocation to its DAG accepted: ms. */
async function inlineRun(stub: AwsStub, lambda: string, i: number): Promise<number> {
  const t0 = performance.now();
  const out = lastJsonLine<{ ok: boolean; result?: { jobs: { runId: string }[] }; error?: unknown }>(
    await run(invokeScript, [lambda], lambdaEnv(stub.url, INLINE_ENV), { cwd: path.dirname(lambda), input: JSON.stringify(s3Event({ key: `incoming/latency-inline-${i}.csv`, versionId: "v1" })) }),
  );
  const ms = performance.now() - t0;
  if (!out.ok) throw new Error(`inline run ${i} failed: ${JSON.stringify(out.error)}`);
  const dag = dagOf(stub, out.result!.jobs[0]!.runId);
  if (dag.length !== 3) throw new Error(`inline run ${i}: ${dag.length} jobs accepted, not 3`);
  return ms;
}

/** The container trigger's invocation (the start job submitted) plus the orchestrator's run (the DAG accepted): ms, without the start job's scheduling. */
async function containerRun(stub: AwsStub, built: { container: string; orchestrator: string }, i: number): Promise<number> {
  const t0 = performance.now();
  const out = lastJsonLine<{ ok: boolean; result?: { jobs: { runId: string; jobId: string }[] }; error?: unknown }>(
    await run(invokeScript, [built.container], lambdaEnv(stub.url), { cwd: path.dirname(built.container), input: JSON.stringify(s3Event({ key: `incoming/latency-container-${i}.csv`, versionId: "v1" })) }),
  );
  const triggerMs = performance.now() - t0;
  if (!out.ok) throw new Error(`container run ${i}: the trigger failed: ${JSON.stringify(out.error)}`);
  const { runId, jobId } = out.result!.jobs[0]!;
  // The start job's environment: what the trigger submitted over what infra sets on the start job definition.
  const request = stub.submitted.find((s) => s.jobName.startsWith(`start-${runId}`));
  const submittedEnv = Object.fromEntries(request.containerOverrides.environment.map((e: { name: string; value: string }) => [e.name, e.value]));
  const env = {
    ...awsEnv(stub.url),
    PIPELINE_WORKFLOW: encodeWorkflow(DEFAULT_WORKFLOW),
    PIPELINE_PROCESS_QUEUE: PROCESS_QUEUE,
    PIPELINE_JOB_DEFINITIONS: encodeJobDefinitions(JOB_DEFINITIONS),
    PIPELINE_OUTPUT_ROOT: "results/",
    PIPELINE_STACK: STACK,
    PIPELINE_JOB_TAGS: '{"project":"batch-pipeline"}',
    ...submittedEnv,
    AWS_BATCH_JOB_ID: jobId,
    AWS_BATCH_JOB_ATTEMPT: "1",
  };
  const t1 = performance.now();
  await run(built.orchestrator, [], env);
  const orchestratorMs = performance.now() - t1;
  const dag = dagOf(stub, runId);
  if (dag.length !== 3) throw new Error(`container run ${i}: ${dag.length} jobs accepted, not 3`);
  return triggerMs + orchestratorMs;
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
const fmt = (ms: number) => `${Math.round(ms).toLocaleString("en")} ms`;

async function main(): Promise<void> {
  const i = process.argv.indexOf("--runs");
  const runs = i > 0 ? Number(process.argv[i + 1]) : 15;
  const dir = mkdtempSync(path.join(tmpdir(), "latency-"));
  try {
    process.stderr.write("building the Lambdas and the orchestrator's bundle…\n");
    const built = await build(dir);
    const stub = await startAwsStub();
    try {
      const inline: number[] = [];
      const container: number[] = [];
      for (let k = 0; k < runs; k++) {
        // Alternated, so both modes see the same machine load.
        inline.push(await inlineRun(stub, built.inline, k));
        container.push(await containerRun(stub, built, k));
        process.stderr.write(`run ${k + 1}/${runs}\n`);
      }
      inline.sort((a, b) => a - b);
      container.sort((a, b) => a - b);
      const measured = (xs: number[]) => `${fmt(quantile(xs, 0.5))} / ${fmt(quantile(xs, 0.95))}`;
      const lines = [
        `Upload event → every job of the default DAG (3 SubmitJob calls) accepted by Batch; ${runs} runs each, against the local endpoint (loopback), node ${process.version}, load average ${loadavg()[0]!.toFixed(1)}.`,
        "Measured: the real code in fresh processes (each a cold start). Modelled: the start job's scheduling, stated inputs, not measured.",
        "",
        "| mode | measured, median / p95 | modelled start-job scheduling | total (median + modelled) |",
        "|---|---|---|---|",
        `| inline (trigger submits the DAG) | ${measured(inline)} | none | ${fmt(quantile(inline, 0.5))} |`,
        ...START_JOB_SCHEDULING.map(
          (s) => `| container, ${s.name} | ${measured(container)} | ${s.seconds} s (${s.range}) | ${((quantile(container, 0.5) + s.seconds * 1000) / 1000).toFixed(1)} s |`,
        ),
        "",
        "Modelled inputs and their sources:",
        ...START_JOB_SCHEDULING.map((s) => `- ${s.name}: ${s.seconds} s (${s.range}); ${s.source}.`),
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
    } finally {
      await stub.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
