/**
 * Burst benchmark: N uploads within a minute, through the REAL trigger handler (functions/handler.ts) and the
 * REAL orchestrator submission (jobs/submitter.ts, with the planner), on a model of AWS with its documented
 * semantics. Each modelled parameter is below with its source, or marked as an assumption.
 *
 *   npx tsx bench/burst.ts [--uploads 10000] [--seconds 60] [--concurrency 10]     (npm run bench:burst)
 *
 * What it reports per design: events dead-lettered, runs whose start job or DAG was submitted twice, when the
 * last DAG was fully submitted against the SubmitJob floor (the runs' SubmitJob calls / 50 per second),
 * SubmitJob calls made (accepted and throttled), and vCPU-seconds spent on start jobs.
 */
import { SubmitJobCommand, type SubmitJobCommandInput } from "@aws-sdk/client-batch";
import { isThrottlingError } from "../batch/calls";
import { createTriggerHandler } from "../functions/handler";
import { computeRunId, type InputObject, type Logger, silentLogger, START_JOB_ENV } from "../contract";
import { submitPlan } from "../jobs/submitter";
import { planWorkflow } from "../workflow/planner";
import { DEFAULT_WORKFLOW } from "../workflow/spec";
import { memoryIdempotency } from "../tests/support/memoryIdempotency";
import { BatchStub, VirtualClock } from "./sim";

/** The model's inputs. */
export interface BurstParams {
  uploads: number;
  /** Uploads arrive evenly over this many seconds. */
  arrivalSeconds: number;
  /** The trigger's reserved concurrency (`trigger.maxConcurrency`, default 10). */
  reservedConcurrency: number;
  /** Batch's SubmitJob rate for the account, shared by the trigger and every orchestrator (assumption: ~50/s, the figure AWS support quotes; Batch documents no number). */
  submitJobsPerSecond: number;
  /** One Batch API call's latency (assumption). */
  batchLatencyMs: number;
  /** The trigger's own work per invocation besides SubmitJob: the DynamoDB claim and its update (assumption). */
  invocationOverheadMs: number;
  /** From a start job's SubmitJob to its container running: scheduling on a warm environment and the image pull (assumption: "tens of seconds"). */
  startJobStartupSeconds: number;
  /** `orchestrator.vcpus` (default 1). */
  startJobVcpus: number;
  /** vCPUs of the environments the queues share (defaults: Spot 64 + On-Demand 16). */
  computeVcpus: number;
  /** How long each process task runs, 1 vCPU (assumption). */
  processTaskSeconds: number;
  /** Lambda keeps a throttled or retried event this long (`maximumEventAgeInSeconds`, infra/trigger.ts: 6 h). */
  maxEventAgeSeconds: number;
  /** Lambda's retries of a function error (`maximumRetryAttempts`, infra/trigger.ts: 2). */
  functionRetries: number;
  /**
   * `container`: the trigger submits a start job that plans and submits the DAG (what the stack deploys).
   * `inline`: the trigger plans and submits the DAG itself, with the orchestrator's submitPlan, within its
   * invocation's time budget: a model of a design not built yet, to size it before building it.
   */
  design: "container" | "inline";
  /** inline: the invocation stops submitting (and undoes its part) this long after it starts (the function's timeout is 60 s, infra/trigger.ts). */
  inlineBudgetSeconds: number;
  seed: number;
}

export const DEFAULT_BURST: BurstParams = {
  uploads: 10_000,
  arrivalSeconds: 60,
  reservedConcurrency: 10,
  submitJobsPerSecond: 50,
  batchLatencyMs: 20,
  invocationOverheadMs: 30,
  startJobStartupSeconds: 30,
  startJobVcpus: 1,
  computeVcpus: 80,
  processTaskSeconds: 60,
  maxEventAgeSeconds: 6 * 3600,
  functionRetries: 2,
  design: "container",
  inlineBudgetSeconds: 50,
  seed: 42,
};

export interface BurstResult {
  /** Events sent to the on-failure destination (the dead-letter queue), by why. */
  deadLettered: { retriesExhausted: number; tooOld: number };
  /** Runs with more than one start job, or more than one submitted DAG. */
  doubledRuns: number;
  /** Runs whose DAG was fully submitted. */
  dagsSubmitted: number;
  /** Seconds from the first upload to the last DAG fully submitted. */
  lastDagSubmittedSeconds: number;
  /** The runs' SubmitJob calls (start jobs and DAG jobs, accepted) / the rate: no design can submit faster. */
  floorSeconds: number;
  submitJobCalls: { accepted: number; throttled: number };
  /** Function invocations, and the deliveries Lambda throttled (no concurrency free) and retried. */
  invocations: { total: number; failed: number; throttledDeliveries: number };
  startJobVcpuSeconds: number;
}

/**
 * The SDK's retry of the trigger's client (functions/wiring.ts SUBMIT_JOB_RETRY: 5 attempts): the installed
 * @smithy/core's backoff, random × min(1,000 ms × 2^i, 20 s) for throttling errors (retries-2026-config.js
 * `throttlingDelay`; older SDKs in the Lambda runtime use 500 ms). Not modelled: adaptive mode's client-side
 * rate limiter and the retry quota (500 tokens, 5 a throttled retry), which both send fewer calls.
 */
const SDK_MAX_ATTEMPTS = 5;
const SDK_THROTTLING_BASE_MS = 1_000;
const SDK_MAX_DELAY_MS = 20_000;

/**
 * Lambda's asynchronous invocation ("How Lambda handles errors and retries with asynchronous invocation"):
 * a function error is retried "two more times, with a one-minute wait between the first two attempts, and
 * two minutes between the second and third"; a throttled event returns to the queue and is retried "for up
 * to 6 hours [...] The retry interval increases exponentially from 1 second after the first attempt to a
 * maximum of 5 minutes."
 */
const FUNCTION_RETRY_WAIT_MS = [60_000, 120_000];
const THROTTLE_RETRY_FIRST_MS = 1_000;
const THROTTLE_RETRY_MAX_MS = 300_000;

/** A vCPU pool that serves waiting start jobs before process jobs (the start queue's higher priority). */
class Compute {
  private free: number;
  private readonly waiting: { high: (() => void)[]; low: (() => void)[] } = { high: [], low: [] };
  constructor(vcpus: number) {
    this.free = vcpus;
  }
  async take(priority: "high" | "low"): Promise<void> {
    if (this.free > 0 && this.waiting.high.length === 0 && (priority === "high" || this.waiting.low.length === 0)) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting[priority].push(resolve));
  }
  give(): void {
    const next = this.waiting.high.shift() ?? this.waiting.low.shift();
    if (next) next();
    else this.free++;
  }
}

const BUCKET = "burst-input";
const objectEvent = (i: number) => ({
  Records: [{ eventSource: "aws:s3", eventName: "ObjectCreated:Put", s3: { bucket: { name: BUCKET }, object: { key: `incoming/upload-${i}.csv`, size: 1_048_576, versionId: `v${i}`, sequencer: `${i}` } } }],
});

/** Runs the container-mode design (trigger submits a start job; the start job plans and submits the DAG). */
export async function burst(p: BurstParams = DEFAULT_BURST, log: Logger = silentLogger): Promise<BurstResult> {
  const clock = new VirtualClock();
  const batch = new BatchStub(clock, { submitJobsPerSecond: p.submitJobsPerSecond, latencyMs: p.batchLatencyMs });
  const compute = new Compute(p.computeVcpus);
  let seed = p.seed;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;

  const startJobsByRun = new Map<string, number>();
  const dagsByRun = new Map<string, number>();
  const result: BurstResult = {
    deadLettered: { retriesExhausted: 0, tooOld: 0 },
    doubledRuns: 0,
    dagsSubmitted: 0,
    lastDagSubmittedSeconds: 0,
    floorSeconds: 0,
    submitJobCalls: { accepted: 0, throttled: 0 },
    invocations: { total: 0, failed: 0, throttledDeliveries: 0 },
    startJobVcpuSeconds: 0,
  };
  const work: Promise<void>[] = [];

  // Plans a run and submits its DAG with the orchestrator's submitPlan (the run id owns the DAG: a retried or
  // duplicate attempt finds it and submits nothing), counting each run's DAG once, when it is first in place.
  const dagsInPlace = new Set<string>();
  const submitDag = async (runId: string, input: InputObject, signal?: AbortSignal) => {
    const plan = planWorkflow(DEFAULT_WORKFLOW, { runId, input, jobDefinitions: { process: "process-def", barrier: "barrier-def" }, jobQueue: "process-queue", stack: "burst" });
    const submitted = await submitPlan(plan, { batch: batch.client, sleep: clock.sleep, random, concurrency: 4, ...(signal ? { signal } : {}) });
    if (submitted.outcome === "submitted") dagsByRun.set(runId, (dagsByRun.get(runId) ?? 0) + 1);
    if (!dagsInPlace.has(runId)) {
      dagsInPlace.add(runId);
      result.dagsSubmitted++;
      result.lastDagSubmittedSeconds = Math.max(result.lastDagSubmittedSeconds, clock.now / 1000);
    }
    return plan;
  };

  // The start job: wait for a vCPU (before any process job), start, plan, submit the DAG, end; then the DAG's jobs run.
  const startJob = async (request: SubmitJobCommandInput) => {
    const env = Object.fromEntries((request.containerOverrides?.environment ?? []).map((e) => [e.name!, e.value!]));
    await compute.take("high");
    const began = clock.now;
    await clock.sleep(p.startJobStartupSeconds * 1000);
    const plan = await submitDag(env[START_JOB_ENV.runId]!, { bucket: BUCKET, key: env[START_JOB_ENV.key]!, sizeBytes: Number(env[START_JOB_ENV.size]) });
    result.startJobVcpuSeconds += ((clock.now - began) / 1000) * p.startJobVcpus;
    compute.give();
    // The default DAG: prepare, then its 3 tasks, then merge, each task 1 vCPU for processTaskSeconds.
    for (const tasks of plan.jobs.map((j) => j.taskCount)) {
      await Promise.all(Array.from({ length: tasks }, async () => {
        await compute.take("low");
        await clock.sleep(p.processTaskSeconds * 1000);
        compute.give();
      }));
    }
  };

  // The trigger's Batch client: SubmitJob through the shared rate, retried by the SDK on throttling.
  const submitJob = async (input: SubmitJobCommandInput) => {
    for (let attempt = 0; ; attempt++) {
      try {
        const out = (await batch.client.send(new SubmitJobCommand(input))) as { jobId: string; jobName: string };
        const runId = input.containerOverrides!.environment!.find((e) => e.name === START_JOB_ENV.runId)!.value!;
        startJobsByRun.set(runId, (startJobsByRun.get(runId) ?? 0) + 1);
        work.push(startJob(input));
        return { ...out, $metadata: {} };
      } catch (error) {
        if (!isThrottlingError(error) || attempt + 1 >= SDK_MAX_ATTEMPTS) throw error;
        await clock.sleep(Math.floor(random() * Math.min(SDK_THROTTLING_BASE_MS * 2 ** attempt, SDK_MAX_DELAY_MS)));
      }
    }
  };
  const handler = createTriggerHandler({
    batch: { submitJob },
    idempotency: memoryIdempotency(),
    config: { target: { jobQueue: "start-queue", jobDefinition: "start-def", stack: "burst" }, ignorePrefix: "results/", accept: { bucket: BUCKET, prefix: "incoming/", suffix: "" } },
    log,
  });

  // The inline design: the invocation plans the run and submits its DAG itself, and gives up at its budget.
  const inline = async (i: number) => {
    const record = objectEvent(i).Records[0]!.s3;
    const input = { bucket: BUCKET, key: record.object.key, versionId: record.object.versionId, sizeBytes: record.object.size };
    const budget = new AbortController();
    void clock.sleep(p.inlineBudgetSeconds * 1000).then(() => budget.abort("the invocation's time budget"));
    await submitDag(await computeRunId({ ...input, sequencer: record.object.sequencer }), input, budget.signal);
  };
  const invoke = p.design === "inline" ? inline : (i: number) => handler(objectEvent(i));

  // Lambda's asynchronous invocation of one event: wait for concurrency (throttled deliveries back off), run, retry errors, then dead-letter.
  let inFlight = 0;
  const deliver = async (i: number) => {
    await clock.sleep((i * p.arrivalSeconds * 1000) / p.uploads);
    const arrived = clock.now;
    let throttleWait = THROTTLE_RETRY_FIRST_MS;
    for (let attempt = 0; ; ) {
      if (clock.now - arrived > p.maxEventAgeSeconds * 1000) return void result.deadLettered.tooOld++;
      if (inFlight >= p.reservedConcurrency) {
        result.invocations.throttledDeliveries++;
        await clock.sleep(throttleWait);
        throttleWait = Math.min(throttleWait * 2, THROTTLE_RETRY_MAX_MS);
        continue;
      }
      inFlight++;
      result.invocations.total++;
      let failed = false;
      try {
        await clock.sleep(p.invocationOverheadMs);
        await invoke(i);
      } catch {
        failed = true;
      } finally {
        inFlight--;
      }
      if (!failed) return;
      result.invocations.failed++;
      if (attempt >= p.functionRetries) return void result.deadLettered.retriesExhausted++;
      await clock.sleep(FUNCTION_RETRY_WAIT_MS[attempt] ?? FUNCTION_RETRY_WAIT_MS.at(-1)!);
      attempt++;
    }
  };

  // The run id's SHA-256 (contract/run.ts) runs on the thread pool: the clock waits for every digest.
  const subtle = globalThis.crypto.subtle;
  const digest = subtle.digest.bind(subtle);
  let digesting = 0;
  subtle.digest = ((...args: Parameters<typeof digest>) => {
    digesting++;
    return digest(...args).finally(() => digesting--);
  }) as typeof subtle.digest;
  try {
    await clock.run(async () => {
      await Promise.all(Array.from({ length: p.uploads }, (_, i) => deliver(i)));
      // Start jobs submitted late push more work; wait until none is left.
      for (let done = 0; done < work.length; done = work.length) await Promise.all(work.slice(done));
    }, () => digesting > 0);
  } finally {
    delete (subtle as { digest?: unknown }).digest;
  }
  result.submitJobCalls = { accepted: batch.accepted, throttled: batch.throttled };
  result.floorSeconds = batch.accepted / p.submitJobsPerSecond;
  result.doubledRuns = [...new Set([...startJobsByRun.keys(), ...dagsByRun.keys()])].filter((r) => (startJobsByRun.get(r) ?? 0) > 1 || (dagsByRun.get(r) ?? 0) > 1).length;
  return result;
}

function table(rows: [string, BurstResult][]): string {
  const lines = [
    "| design | dead-lettered | doubled runs | DAGs submitted | last DAG submitted | floor | ratio | SubmitJob accepted / throttled | invocations (failed) / throttled deliveries | start-job vCPU-s |",
    "|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const [name, r] of rows) {
    const dead = r.deadLettered.retriesExhausted + r.deadLettered.tooOld;
    lines.push(
      `| ${name} | ${dead} | ${r.doubledRuns} | ${r.dagsSubmitted} | ${r.lastDagSubmittedSeconds.toFixed(0)} s | ${r.floorSeconds.toFixed(0)} s | ${(r.lastDagSubmittedSeconds / r.floorSeconds).toFixed(2)} | ${r.submitJobCalls.accepted} / ${r.submitJobCalls.throttled} | ${r.invocations.total} (${r.invocations.failed}) / ${r.invocations.throttledDeliveries} | ${r.startJobVcpuSeconds.toFixed(0)} |`,
    );
  }
  return lines.join("\n");
}

if (require.main === module) {
  const arg = (name: string, fallback: number) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : fallback;
  };
  const params: BurstParams = { ...DEFAULT_BURST, uploads: arg("uploads", DEFAULT_BURST.uploads), arrivalSeconds: arg("seconds", DEFAULT_BURST.arrivalSeconds) };
  const concurrencies = process.argv.includes("--concurrency") ? [arg("concurrency", 10)] : [10, 50];
  void (async () => {
    const rows: [string, BurstResult][] = [];
    for (const design of ["container", "inline"] as const) {
      for (const reservedConcurrency of concurrencies) {
        const t0 = Date.now();
        rows.push([`${design === "inline" ? "inline (modelled, not built)" : "container"}, reserved concurrency ${reservedConcurrency}`, await burst({ ...params, design, reservedConcurrency })]);
        process.stderr.write(`simulated in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
      }
    }
    process.stdout.write(`${params.uploads} uploads in ${params.arrivalSeconds} s, default DAG (3 SubmitJob calls a run), ${params.submitJobsPerSecond} SubmitJob/s shared, ${params.computeVcpus} vCPUs\n${table(rows)}\n`);
  })();
}
