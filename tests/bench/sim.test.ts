import { ListJobsCommand, SubmitJobCommand } from "@aws-sdk/client-batch";
import { describe, expect, it } from "vitest";
import { BatchStub } from "../../bench/sim";
import { FakeClock } from "../support/clock";
import { isThrottlingError } from "../../batch/calls";

// The benchmark's numbers are only as good as its stub: check the rate limit and latency it claims.
describe("benchmark simulator", () => {
  const submit = (stub: BatchStub, i: number) => stub.send(new SubmitJobCommand({ jobName: `j${i}`, jobQueue: "q", jobDefinition: "d" }));

  it("answers after 20 ms of simulated time and throttles beyond a burst of 50 SubmitJob calls", async () => {
    const clock = new FakeClock();
    const stub = new BatchStub(clock);

    const results = await clock.run(() => Promise.allSettled(Array.from({ length: 60 }, (_, i) => submit(stub, i))));

    expect(clock.now()).toBe(20);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(50);
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(rejected).toHaveLength(10);
    expect(rejected.every((r) => isThrottlingError(r.reason))).toBe(true);
    expect([stub.submitJobCalls, stub.accepted, stub.throttled]).toEqual([60, 50, 10]);
  });

  it("refills 50 tokens per simulated second", async () => {
    const clock = new FakeClock();
    const stub = new BatchStub(clock);
    await clock.run(async () => {
      await Promise.allSettled(Array.from({ length: 50 }, (_, i) => submit(stub, i)));
      await clock.sleep(980); // t = 1 s: the bucket is full again
      await Promise.allSettled(Array.from({ length: 51 }, (_, i) => submit(stub, i)));
    });
    expect([stub.accepted, stub.throttled, clock.now()]).toEqual([100, 1, 1_020]);
  });

  it("sequential calls advance the clock by the latency each", async () => {
    const clock = new FakeClock();
    const stub = new BatchStub(clock);
    await clock.run(async () => {
      await stub.send(new ListJobsCommand({ jobQueue: "q" }));
      for (let i = 0; i < 5; i++) await submit(stub, i);
    });
    expect(clock.now()).toBe(120);
  });
});
