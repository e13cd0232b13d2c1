/**
 * Burst benchmark: N uploads within a minute, through the REAL trigger handler (functions/handler.ts), with
 * each `orchestrator.mode`'s real code: the start job's planner and submitter (workflow/planner.ts,
 * batch/submitter.ts) for `container`, the trigger's own (functions/inline.ts) for `inline` and `auto`, on a
 * model of AWS with its documented semantics. Each modelled parameter is below with its source, or marked as
 * an assumption.
 *
 *   npx tsx bench/burst.ts [--uploads 10000] [--seconds 60] [--reserved 10] [--only "SQS queue"]     (npm run bench:burst)
 *
 * `--reserved N`: the function's reserved concurrency (`trigger.maxConcurrency`) in the asynchronous invocation rows.
 *
 * What it reports per mode and delivery: events dead-lettered, runs whose start job or DAG was submitted
 * twice, when the last DAG was fully submitted against the SubmitJob floor (the runs' SubmitJob calls / 50 per
 * second), SubmitJob calls made (accepted and throttled), and vCPU-seconds spent on start jobs.
 */
import { SubmitJobCommand, type SubmitJobCommandInput } from "@aws-sdk/client-batch";
import type { Context } from "aws-lambda";
import { isThrottlingError } from "../batch/calls";
import { BATCH_COMMANDS } from "../batch/clients";
import { createTriggerHandler, type SqsBatchResult } from "../functions/handler";
import type { RecordIdempotency, StoredStartJob } from "../functions/idempotency";
import { createInlineStarter, type InlineStarter, type InlineTarget } from "../functions/inline";
import {
  ASYNC_INVOCATION,
  type InputObject,
  type Logger,
  type OrchestratorMode,
  silentLogger,
  START_JOB_ENV,
  TRIGGER_QUEUE,
  TRIGGER_TIMEOUT_SECONDS,
  type TriggerDelivery,
} from "../contract";
import { submitPlan } from "../batch/submitter";
import { planWorkflow } from "../workflow/planner";
import { DEFAULT_WORKFLOW } from "../workflow/spec";
import { memoryIdempotency } from "../tests/support/memoryIdempotency";
import { BatchStub } from "./sim";
import { FakeClock } from "../tests/support/clock";

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
  /** Lambda keeps a throttled or retried event this long (`maximumEventAgeInSeconds`, what infra/trigger.ts deploys: contract/delivery.ts, 6 h). */
  maxEventAgeSeconds: number;
  /** Lambda's retries of a function error (`maximumRetryAttempts`, what infra/trigger.ts deploys: contract/delivery.ts, 2). */
  functionRetries: number;
  /**
   * `orchestrator.mode`. `container`: the trigger submits a start job that plans and submits the DAG.
   * `inline`: the trigger plans and submits the DAG itself (functions/inline.ts) within its invocation's budget.
   * `auto`: inline for a plan of at most 20 SubmitJob calls (the default workflow's 3), else a start job.
   */
  mode: OrchestratorMode;
  /**
   * The function's timeout (contract/delivery.ts, 60 s): each invocation's Lambda context counts down from it on
   * the model's clock; inline submission stops 10 s before its end (contract/orchestration.ts) to undo its part.
   * An invocation still running at the timeout is stopped by Lambda: a failure.
   */
  functionTimeoutSeconds: number;
  /**
   * The trigger's idempotency store claims the run id (Powertools' in-progress record) while its start job or
   * DAG is submitted, as the stack deploys it. `false`: a store that neither claims nor remembers, never
   * deployed: it only shows why the claim is needed (two invocations given the same run at once, a standard
   * queue's duplicate, both find no DAG and both submit one: Batch has no conditional create).
   */
  claim: boolean;
  /**
   * How S3's events reach the function. `async`: S3 invokes it asynchronously (`trigger.delivery`'s default).
   * `queue`: S3 sends them to an SQS queue that an event source mapping polls (`trigger.delivery: queue`; the
   * queue rows below use the numbers it deploys, contract/delivery.ts).
   */
  delivery: TriggerDelivery;
  /** queue: the event source mapping's `ScalingConfig.MaximumConcurrency` (2 to 1,000; `trigger.queueMaxConcurrency`). */
  queueMaxConcurrency: number;
  /** queue: messages per invocation (`BatchSize`; at most 10 without a batching window). */
  queueBatchSize: number;
  /** queue: `MaximumBatchingWindowInSeconds` (0 to 300): how long a poller gathers a batch once it has a message. */
  queueBatchWindowSeconds: number;
  /** queue: the queue's visibility timeout (Lambda's guide: at least six times the function's timeout, 60 s). */
  queueVisibilityTimeoutSeconds: number;
  /** queue: the redrive policy's `maxReceiveCount` (Lambda's guide: at least 5). */
  queueMaxReceiveCount: number;
  /**
   * queue: the share of messages a standard queue delivers twice ("at-least-once delivery [...] you might get
   * that message copy again": SQS developer guide; AWS gives no rate, so an assumption).
   */
  queueDuplicateRate: number;
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
  maxEventAgeSeconds: ASYNC_INVOCATION.maxEventAgeSeconds,
  functionRetries: ASYNC_INVOCATION.retryAttempts,
  mode: "container",
  functionTimeoutSeconds: TRIGGER_TIMEOUT_SECONDS,
  claim: true,
  delivery: "async",
  queueMaxConcurrency: 5,
  queueBatchSize: TRIGGER_QUEUE.batchSize,
  queueBatchWindowSeconds: TRIGGER_QUEUE.batchingWindowSeconds,
  queueVisibilityTimeoutSeconds: TRIGGER_QUEUE.visibilityTimeoutSeconds,
  queueMaxReceiveCount: TRIGGER_QUEUE.maxReceiveCount,
  queueDuplicateRate: 0.01,
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
  /** The runs' SubmitJob calls (start jobs and DAG jobs, accepted) / the rate: no mode can submit faster. */
  floorSeconds: number;
  submitJobCalls: { accepted: number; throttled: number };
  /** Function invocations (failed: an error or a batch item failure; timedOut: stopped at the function's timeout), and the deliveries Lambda throttled (no concurrency free) and retried. */
  invocations: { total: number; failed: number; timedOut: number; throttledDeliveries: number; peakConcurrent: number };
  /** The function's billed time: every invocation's duration, summed (Lambda bills it × the memory size). */
  lambdaSeconds: number;
  /** Jobs terminated: what an invocation cut off at its budget had submitted, undone. */
  terminatedJobs: number;
  /** queue: messages the queue delivered a second time (at-least-once delivery). */
  duplicateDeliveries: number;
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
/** Where the runs' jobs go: the start job's environment in `container` mode, the trigger's in `inline`. */
const TARGET: InlineTarget = { jobDefinitions: { process: "process-def", barrier: "barrier-def" }, jobQueue: "process-queue", stack: "burst" };
const objectEvent = (i: number) => ({
  Records: [{ eventSource: "aws:s3", eventName: "ObjectCreated:Put", s3: { bucket: { name: BUCKET }, object: { key: `incoming/upload-${i}.csv`, size: 1_048_576, versionId: `v${i}`, sequencer: `${i}` } } }],
});

/** Runs one burst through the real trigger handler in `p.mode`, delivered as `p.delivery`. */
export async function burst(p: BurstParams = DEFAULT_BURST, log: Logger = silentLogger): Promise<BurstResult> {
  const clock = new FakeClock();
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
    invocations: { total: 0, failed: 0, timedOut: 0, throttledDeliveries: 0, peakConcurrent: 0 },
    lambdaSeconds: 0,
    terminatedJobs: 0,
    duplicateDeliveries: 0,
    startJobVcpuSeconds: 0,
  };
  const work: Promise<void>[] = [];

  // Each run's DAG counted once, when it is first in place, whoever submitted it (a start job, an invocation);
  // a run whose DAG is submitted more than once (outcome "submitted", not "existing") is doubled.
  const dagInPlace = (runId: string, outcome: "submitted" | "existing") => {
    if (outcome === "submitted") dagsByRun.set(runId, (dagsByRun.get(runId) ?? 0) + 1);
    if (dagsByRun.has(runId) && !dagsCounted.has(runId)) {
      dagsCounted.add(runId);
      result.dagsSubmitted++;
      result.lastDagSubmittedSeconds = Math.max(result.lastDagSubmittedSeconds, clock.now() / 1000);
    }
  };
  const dagsCounted = new Set<string>();

  // The start job (container mode, or auto for a large plan): wait for a vCPU (before any process job), start,
  // plan, submit the DAG with the orchestrator's submitPlan, end; then the DAG's jobs run.
  const startJob = async (request: SubmitJobCommandInput) => {
    const env = Object.fromEntries((request.containerOverrides?.environment ?? []).map((e) => [e.name!, e.value!]));
    await compute.take("high");
    const began = clock.now();
    await clock.sleep(p.startJobStartupSeconds * 1000);
    const runId = env[START_JOB_ENV.runId]!;
    const input: InputObject = { bucket: BUCKET, key: env[START_JOB_ENV.key]!, sizeBytes: Number(env[START_JOB_ENV.size]) };
    const plan = planWorkflow(DEFAULT_WORKFLOW, { ...TARGET, runId, input });
    const submitted = await submitPlan(plan, { batch: batch.client, commands: BATCH_COMMANDS, sleep: clock.sleep, random, concurrency: 4 });
    dagInPlace(runId, submitted.outcome);
    result.startJobVcpuSeconds += ((clock.now() - began) / 1000) * p.startJobVcpus;
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

  // inline and auto: the trigger's own starter (functions/inline.ts) on the model's Batch and clock, observed.
  const starter =
    p.mode === "container"
      ? undefined
      : createInlineStarter({ mode: p.mode, workflow: DEFAULT_WORKFLOW, target: TARGET, batch: batch.client, submitBatch: batch.client, commands: BATCH_COMMANDS, now: clock.now, sleep: clock.sleep, setTimer: clock.setTimer, random, log });
  const inline: InlineStarter | undefined =
    starter &&
    (async (object, runId, deadlineMs) => {
      const started = await starter(object, runId, deadlineMs);
      if (started) dagInPlace(runId, started.outcome);
      return started;
    });

  // The idempotency store (Powertools over DynamoDB: claim, then store the result), each record's claim and
  // update costing invocationOverheadMs.
  const store: RecordIdempotency = p.claim ? memoryIdempotency() : { wrap: (fn) => fn };
  const idempotency: RecordIdempotency = {
    wrap: <Rest extends unknown[]>(fn: (runId: string, ...rest: Rest) => Promise<StoredStartJob>) => {
      const once = store.wrap(fn);
      return async (runId: string, ...rest: Rest) => {
        await clock.sleep(p.invocationOverheadMs);
        return once(runId, ...rest);
      };
    },
  };
  const handler = createTriggerHandler({
    batch: { submitJob },
    ...(inline ? { inline } : {}),
    now: clock.now,
    idempotency,
    config: { target: { jobQueue: "start-queue", jobDefinition: "start-def", stack: "burst" }, bucket: BUCKET, filter: { prefix: "incoming/", suffix: "", outputPrefix: "results/" } },
    log,
  });

  // One invocation: the handler given a Lambda context whose remaining time counts down on the model's clock
  // from the function's timeout; Lambda stops an invocation still running then (the model only stops waiting
  // for it, and counts it: invocations.timedOut).
  const timeoutMs = p.functionTimeoutSeconds * 1000;
  const invoke = async (event: unknown): Promise<{ ok: true; value: unknown } | { ok: false }> => {
    const started = clock.now();
    const context = { getRemainingTimeInMillis: () => Math.max(0, started + timeoutMs - clock.now()) } as Context;
    let cancel = () => {};
    const timeout = new Promise<"timeout">((resolve) => (cancel = clock.setTimer(timeoutMs, () => resolve("timeout"))));
    try {
      const outcome = await Promise.race([handler(event, context).then((value) => ({ ok: true as const, value }), () => ({ ok: false as const })), timeout]);
      if (outcome !== "timeout") return outcome;
      result.invocations.timedOut++;
      return { ok: false };
    } finally {
      cancel();
      result.lambdaSeconds += Math.min(clock.now() - started, timeoutMs) / 1000;
    }
  };

  // Lambda's asynchronous invocation of one event: wait for concurrency (throttled deliveries back off), run, retry errors, then dead-letter.
  let inFlight = 0;
  const deliver = async (i: number) => {
    await clock.sleep((i * p.arrivalSeconds * 1000) / p.uploads);
    const arrived = clock.now();
    let throttleWait = THROTTLE_RETRY_FIRST_MS;
    for (let attempt = 0; ; ) {
      if (clock.now() - arrived > p.maxEventAgeSeconds * 1000) return void result.deadLettered.tooOld++;
      if (inFlight >= p.reservedConcurrency) {
        result.invocations.throttledDeliveries++;
        await clock.sleep(throttleWait);
        throttleWait = Math.min(throttleWait * 2, THROTTLE_RETRY_MAX_MS);
        continue;
      }
      inFlight++;
      result.invocations.total++;
      result.invocations.peakConcurrent = Math.max(result.invocations.peakConcurrent, inFlight);
      const { ok } = await invoke(objectEvent(i));
      inFlight--;
      if (ok) return;
      result.invocations.failed++;
      if (attempt >= p.functionRetries) return void result.deadLettered.retriesExhausted++;
      await clock.sleep(FUNCTION_RETRY_WAIT_MS[attempt] ?? FUNCTION_RETRY_WAIT_MS.at(-1)!);
      attempt++;
    }
  };

  // S3 → SQS → an event source mapping ("Configuring scaling behavior for SQS event source mappings"): pollers
  // take batches of visible messages, "five batches at a time with five concurrent invocations", adding "up to
  // 300 more instances per minute" up to the mapping's maximum concurrency. A batch's failed messages
  // (ReportBatchItemFailures) become visible again when their visibility timeout ends; a message received
  // maxReceiveCount times and failed again goes to the dead-letter queue (the queue's redrive policy). A
  // message waiting in the queue is never throttled or aged out (retention up to 14 days).
  // (A duplicate is given its own message id here; SQS would repeat the id with another receipt handle.)
  interface Message { id: string; i: number; receives: number }
  const visible: Message[] = [];
  const idle: (() => void)[] = [];
  const wakeAll = () => idle.splice(0).forEach((wake) => wake());
  let messageIds = 0;
  const enqueue = (message: Omit<Message, "id"> & { id?: string }) => {
    visible.push({ ...message, id: message.id ?? `m-${messageIds++}` });
    wakeAll();
  };
  let settledMessages = 0;
  let messages = p.uploads;
  const poller = async (index: number) => {
    if (index >= 5) await clock.sleep(((index - 4) * 60_000) / 300);
    while (settledMessages < messages) {
      if (visible.length === 0) {
        await new Promise<void>((resolve) => idle.push(resolve));
        continue;
      }
      if (visible.length < p.queueBatchSize) await clock.sleep(p.queueBatchWindowSeconds * 1000);
      const batch = visible.splice(0, p.queueBatchSize);
      if (batch.length === 0) continue;
      for (const message of batch) message.receives++;
      result.invocations.total++;
      result.invocations.peakConcurrent = Math.max(result.invocations.peakConcurrent, ++inFlight);
      const received = clock.now();
      // The mapping's event: one SQS record a message, its body the S3 notification; the handler answers with
      // the messages that failed (ReportBatchItemFailures); an error or a timeout fails the whole batch.
      const answer = await invoke({ Records: batch.map((m) => ({ messageId: m.id, eventSource: "aws:sqs", body: JSON.stringify(objectEvent(m.i)) })) });
      const failedIds = answer.ok ? new Set((answer.value as SqsBatchResult).batchItemFailures.map((f) => f.itemIdentifier)) : undefined;
      const failed = batch.filter((m) => !failedIds || failedIds.has(m.id));
      settledMessages += batch.length - failed.length;
      inFlight--;
      if (failed.length > 0) result.invocations.failed++;
      // A failed message stays invisible until its visibility timeout ends; then it is received again, or, received
      // maxReceiveCount times already, moved to the dead-letter queue.
      for (const message of failed) {
        void clock.sleep(p.queueVisibilityTimeoutSeconds * 1000 - (clock.now() - received)).then(() => {
          if (message.receives < p.queueMaxReceiveCount) return enqueue(message);
          result.deadLettered.retriesExhausted++;
          settledMessages++;
          wakeAll();
        });
      }
    }
    wakeAll();
  };
  // The mapping never runs more than the function's reserved concurrency (Lambda's SQS scaling guide: set maximum
  // concurrency no higher than it, or batches are throttled back to the queue).
  const pollers = Math.min(p.queueMaxConcurrency, p.reservedConcurrency);
  const deliverAll =
    p.delivery === "queue"
      ? () =>
          Promise.all([
            ...Array.from({ length: p.uploads }, async (_, i) => {
              await clock.sleep((i * p.arrivalSeconds * 1000) / p.uploads);
              enqueue({ i, receives: 0 });
              if (random() < p.queueDuplicateRate) {
                messages++;
                result.duplicateDeliveries++;
                enqueue({ i, receives: 0 });
              }
            }),
            ...Array.from({ length: pollers }, (_, k) => poller(k)),
          ])
      : () => Promise.all(Array.from({ length: p.uploads }, (_, i) => deliver(i)));

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
      await deliverAll();
      // Start jobs submitted late push more work; wait until none is left.
      for (let done = 0; done < work.length; done = work.length) await Promise.all(work.slice(done));
    }, () => digesting > 0);
  } finally {
    delete (subtle as { digest?: unknown }).digest;
  }
  result.submitJobCalls = { accepted: batch.accepted, throttled: batch.throttled };
  result.terminatedJobs = batch.model.terminated.length;
  result.floorSeconds = batch.accepted / p.submitJobsPerSecond;
  result.doubledRuns = [...new Set([...startJobsByRun.keys(), ...dagsByRun.keys()])].filter((r) => (startJobsByRun.get(r) ?? 0) > 1 || (dagsByRun.get(r) ?? 0) > 1).length;
  return result;
}

function table(rows: [string, BurstResult][]): string {
  const lines = [
    "| mode, delivery | dead-lettered | doubled runs | DAGs submitted | last DAG submitted | floor | ratio | SubmitJob accepted / throttled | invocations (failed) / throttled deliveries | start-job vCPU-s | Lambda s |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const [name, r] of rows) {
    const dead = r.deadLettered.retriesExhausted + r.deadLettered.tooOld;
    lines.push(
      `| ${name} | ${dead} | ${r.doubledRuns} | ${r.dagsSubmitted} | ${r.lastDagSubmittedSeconds.toFixed(0)} s | ${r.floorSeconds.toFixed(0)} s | ${(r.lastDagSubmittedSeconds / r.floorSeconds).toFixed(2)} | ${r.submitJobCalls.accepted} / ${r.submitJobCalls.throttled} | ${r.invocations.total} (${r.invocations.failed}) / ${r.invocations.throttledDeliveries} | ${r.startJobVcpuSeconds.toFixed(0)} | ${r.lambdaSeconds.toFixed(0)} |`,
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
  /**
   * The rows: each mode through S3's asynchronous invocation (`trigger.delivery: async`) and through an SQS queue
   * (`queue`). `auto` submits the default workflow's 3-call plans inline, the same runs as `inline`: its rows
   * (`--only auto`) are not in the default table.
   */
  const reserved = arg("reserved", DEFAULT_BURST.reservedConcurrency);
  const rows: { name: string; params: Partial<BurstParams> }[] = [
    { name: `container, async invocation, reserved concurrency ${reserved}`, params: { mode: "container", delivery: "async", reservedConcurrency: reserved } },
    { name: "container, SQS queue, maximum concurrency 5", params: { mode: "container", delivery: "queue", queueMaxConcurrency: 5 } },
    ...(["inline", "auto"] as const).flatMap((mode) => [
      { name: `${mode}, async invocation, reserved concurrency ${reserved}`, params: { mode, delivery: "async" as const, reservedConcurrency: reserved } },
      ...[2, 5, 10].map((queueMaxConcurrency) => ({ name: `${mode}, SQS queue, maximum concurrency ${queueMaxConcurrency}`, params: { mode, delivery: "queue" as const, queueMaxConcurrency } })),
    ]),
  ];
  const only = process.argv.indexOf("--only");
  const selected = only > 0 ? rows.filter((r) => r.name.includes(process.argv[only + 1]!)) : rows.filter((r) => r.params.mode !== "auto");
  void (async () => {
    const results: [string, BurstResult][] = [];
    for (const row of selected) {
      const t0 = Date.now();
      results.push([row.name, await burst({ ...params, ...row.params })]);
      process.stderr.write(`${row.name}: simulated in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    }
    process.stdout.write(`${params.uploads} uploads in ${params.arrivalSeconds} s, default DAG (3 SubmitJob calls a run), ${params.submitJobsPerSecond} SubmitJob/s shared, ${params.computeVcpus} vCPUs\n${table(results)}\n`);
  })();
}
