/**
 * bench/burst.ts's model of AWS, on small bursts: it must behave as the cited documents say before its
 * 10,000-upload table means anything. The real trigger handler runs inside it, with the start job's planner and
 * submitter (`container`) or its own inline starter (functions/inline.ts: `inline`, `auto`).
 */
import { describe, expect, it } from "vitest";
import { burst, DEFAULT_BURST } from "../../bench/burst";

const small = { ...DEFAULT_BURST, uploads: 40, arrivalSeconds: 10, computeVcpus: 8 };

describe("the burst model", () => {
  it("submits every run's start job and DAG exactly once, and no faster than the SubmitJob floor", async () => {
    const r = await burst(small);
    expect(r.deadLettered).toEqual({ retriesExhausted: 0, tooOld: 0 });
    expect([r.doubledRuns, r.dagsSubmitted]).toEqual([0, 40]);
    // A start job and the default DAG's 3 jobs a run.
    expect(r.submitJobCalls.accepted).toBe(40 * 4);
    expect(r.floorSeconds).toBe((40 * 4) / 50);
    expect(r.lastDagSubmittedSeconds).toBeGreaterThan(small.startJobStartupSeconds);
    // Every start job holds its vCPU at least from its start to its last SubmitJob.
    expect(r.startJobVcpuSeconds).toBeGreaterThanOrEqual(40 * small.startJobStartupSeconds);
  });

  it("a Batch that never accepts: each event is tried three times (Lambda's two retries of a function error) and then dead-lettered", async () => {
    const r = await burst({ ...small, uploads: 5, submitJobsPerSecond: 0 });
    expect(r.invocations).toMatchObject({ total: 15, failed: 15 });
    expect(r.deadLettered).toEqual({ retriesExhausted: 5, tooOld: 0 });
    // Five SDK attempts per invocation, all throttled.
    expect(r.submitJobCalls).toEqual({ accepted: 0, throttled: 15 * 5 });
    expect(r.dagsSubmitted).toBe(0);
  });

  it("with one concurrent execution, Lambda throttles the other deliveries and retries them later (never drops them within the event age)", async () => {
    const r = await burst({ ...small, uploads: 10, arrivalSeconds: 0.01, reservedConcurrency: 1 });
    expect(r.invocations.throttledDeliveries).toBeGreaterThan(0);
    expect(r.invocations.peakConcurrent).toBe(1);
    expect([r.dagsSubmitted, r.deadLettered.tooOld]).toEqual([10, 0]);
  });

  it("an event older than maximumEventAgeInSeconds is dead-lettered without running", async () => {
    const r = await burst({ ...small, uploads: 10, arrivalSeconds: 0.01, reservedConcurrency: 1, maxEventAgeSeconds: 0.5 });
    expect(r.deadLettered.tooOld).toBeGreaterThan(0);
    expect(r.dagsSubmitted + r.deadLettered.tooOld + r.deadLettered.retriesExhausted).toBe(10);
  });

  it("inline mode: the trigger's invocations submit each run's DAG once, with no start job and no start-job compute", async () => {
    const r = await burst({ ...small, mode: "inline" });
    expect([r.dagsSubmitted, r.doubledRuns, r.startJobVcpuSeconds]).toEqual([40, 0, 0]);
    expect(r.submitJobCalls.accepted).toBe(40 * 3);
    expect(r.deadLettered).toEqual({ retriesExhausted: 0, tooOld: 0 });
  });

  it("inline mode: an invocation cut off at its budget (the function's timeout − 10 s) undoes its part, and Lambda's retry submits the run's DAG once", async () => {
    // One SubmitJob a second shared by three runs at once: one run's 3 jobs outlast the 12 s budget of a 22 s
    // timeout (a backoff past it is refused), its invocation terminates the job it had submitted and fails, and
    // Lambda's retry a minute later submits the whole DAG again.
    const r = await burst({ ...small, uploads: 3, arrivalSeconds: 0.01, reservedConcurrency: 3, mode: "inline", submitJobsPerSecond: 1, functionTimeoutSeconds: 22 });
    expect([r.invocations.failed, r.invocations.timedOut]).toEqual([1, 0]);
    expect([r.dagsSubmitted, r.doubledRuns, r.deadLettered.retriesExhausted]).toEqual([3, 0, 0]);
    // The cut-off attempt's job was accepted, then terminated: one call more than the 3 runs' 9.
    expect([r.submitJobCalls.accepted, r.terminatedJobs]).toEqual([10, 1]);
  });

  describe.each(["async", "queue"] as const)("200 uploads in 10 s through the real inline path, %s delivery", (delivery) => {
    const burst200 = { ...small, uploads: 200, delivery, mode: "inline" as const };

    it("dead-letters nothing, doubles nothing, submits every run's 3 jobs once with no start job, and no invocation reaches its timeout", async () => {
      const r = await burst(burst200);
      expect(r.deadLettered).toEqual({ retriesExhausted: 0, tooOld: 0 });
      expect([r.dagsSubmitted, r.doubledRuns, r.startJobVcpuSeconds, r.invocations.timedOut]).toEqual([200, 0, 0, 0]);
      expect(r.submitJobCalls.accepted).toBe(200 * 3);
      expect(r.lastDagSubmittedSeconds).toBeLessThan(1.5 * Math.max(r.floorSeconds, burst200.arrivalSeconds));
    });

    it("auto submits the default workflow's 3-call plans inline: the same burst as inline", async () => {
      expect(await burst({ ...burst200, mode: "auto" })).toEqual(await burst(burst200));
    });
  });

  describe("S3 → SQS → an event source mapping", () => {
    const queued = { ...small, delivery: "queue" as const };

    it("inline mode: every run's DAG once, nothing dead-lettered, no throttled delivery, at most maxConcurrency invocations at once", async () => {
      // All 40 at once: both pollers busy, never a third.
      const r = await burst({ ...queued, mode: "inline", arrivalSeconds: 0.01, queueMaxConcurrency: 2 });
      expect([r.dagsSubmitted, r.doubledRuns, r.invocations.throttledDeliveries, r.startJobVcpuSeconds]).toEqual([40, 0, 0, 0]);
      expect(r.deadLettered).toEqual({ retriesExhausted: 0, tooOld: 0 });
      expect(r.submitJobCalls.accepted).toBe(40 * 3);
      // Batches of up to 10 messages: 40 messages take at least 4 invocations.
      expect(r.invocations.total).toBeGreaterThanOrEqual(4);
      expect(r.invocations.peakConcurrent).toBe(2);
    });

    it("a Batch that never accepts: a message is received maxReceiveCount times, each after the visibility timeout, then dead-lettered", async () => {
      const r = await burst({ ...queued, uploads: 3, arrivalSeconds: 0.01, submitJobsPerSecond: 0, queueMaxReceiveCount: 3, queueVisibilityTimeoutSeconds: 360 });
      expect(r.deadLettered).toEqual({ retriesExhausted: 3, tooOld: 0 });
      // One batch of 3 messages, received 3 times: 3 invocations, each of the SDK's 5 attempts per message throttled.
      expect(r.invocations).toMatchObject({ total: 3, failed: 3, throttledDeliveries: 0 });
      expect(r.submitJobCalls).toEqual({ accepted: 0, throttled: 3 * 3 * 5 });
    });

    it("a message failed once comes back after the visibility timeout and its run is submitted once", async () => {
      // As the async test above: one SubmitJob a second for three runs, a 10 s budget cuts one off.
      const r = await burst({ ...queued, uploads: 3, arrivalSeconds: 0.01, mode: "inline", submitJobsPerSecond: 1, functionTimeoutSeconds: 20, queueBatchSize: 1, queueMaxConcurrency: 3 });
      expect(r.invocations.failed).toBeGreaterThan(0);
      expect([r.dagsSubmitted, r.doubledRuns, r.deadLettered.retriesExhausted]).toEqual([3, 0, 0]);
      // The retry waits out the visibility timeout (360 s).
      expect(r.lastDagSubmittedSeconds).toBeGreaterThan(360);
    });

    it("a standard queue's duplicate deliveries (here every message twice) submit nothing twice: the run's jobs are found by name", async () => {
      const r = await burst({ ...queued, mode: "inline", queueDuplicateRate: 1 });
      expect([r.duplicateDeliveries, r.dagsSubmitted, r.doubledRuns]).toEqual([40, 40, 0]);
      expect(r.submitJobCalls.accepted).toBe(40 * 3);
    });

    it("duplicates delivered to two pollers at once double a run unless the idempotency store claims the run id first (the real handler and inline starter; only the store is swapped)", async () => {
      const burstOfDuplicates = { ...queued, mode: "inline" as const, arrivalSeconds: 0.01, queueBatchSize: 1, queueDuplicateRate: 1, queueMaxConcurrency: 10 };
      const unclaimed = await burst({ ...burstOfDuplicates, claim: false });
      expect(unclaimed.doubledRuns).toBeGreaterThan(0);
      const claimed = await burst(burstOfDuplicates);
      expect([claimed.duplicateDeliveries, claimed.dagsSubmitted, claimed.doubledRuns, claimed.deadLettered.retriesExhausted]).toEqual([40, 40, 0, 0]);
    });

    it("never runs more batches at once than the function's reserved concurrency, whatever the mapping's maximum", async () => {
      const r = await burst({ ...queued, mode: "inline", arrivalSeconds: 0.01, queueMaxConcurrency: 10, reservedConcurrency: 3 });
      expect(r.invocations.peakConcurrent).toBe(3);
      expect(r.dagsSubmitted).toBe(40);
    });
  });
});
