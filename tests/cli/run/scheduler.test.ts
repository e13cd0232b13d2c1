/**
 * The local scheduler over the planner's real plans, with a fake executor and clock: Batch's dependency,
 * array, retry and timeout semantics, and the concurrency limits.
 */
import { DEFAULT_PROCESS_JOB } from "../../../stack/config";
import { describe, expect, it } from "vitest";
import { START_JOB_ENV, TASK_ENV } from "../../../contract";
import { LocalScheduler, STATUS_REASONS } from "../../../cli/run/scheduler";
import type { LocalRunModel } from "../../../cli/run/model";
import { fakeClock, FakeExecutor, flush, modelOf, type Behaviour } from "./support";
import { wideWorkflow } from "../../../cli/run/bench";

const BIG_MACHINE = { maxTasks: 64, cpus: 64, memoryMiB: 1 << 20 };

function scheduler(model: LocalRunModel, executor: FakeExecutor, clock = fakeClock(), limits = BIG_MACHINE) {
  return new LocalScheduler(model, { executor, clock, ...limits });
}

const jobOf = (model: LocalRunModel, id: string) => model.jobs.find((j) => j.planned.id === id)!;
const process = (extra: Record<string, unknown> = {}) => ({ image: "public.ecr.aws/docker/library/busybox:1.37", command: ["true"], ...extra });

describe("local scheduler: dependencies (Job dependencies and Array jobs, Batch user guide)", () => {
  it("runs the default workflow in dependency order with Batch's variables and the pipeline's overrides", async () => {
    const { model, planned } = await modelOf();
    const executor = new FakeExecutor();
    const result = await scheduler(model, executor).run();
    expect(result.state).toBe("SUCCEEDED");
    expect(executor.labels()).toEqual(["prepare#1", "process[0]#1", "process[1]#1", "process[2]#1", "merge#1"]);
    const [prepare, child] = [executor.launches[0]!, executor.launches[2]!];
    const parent = jobOf(model, "process").jobId;
    // No step of the default workflow sets a command: each runs the definition's.
    expect(prepare.command).toEqual(DEFAULT_PROCESS_JOB.command);
    expect(child.command).toEqual(DEFAULT_PROCESS_JOB.command);
    expect(child.environment).toMatchObject({
      AWS_BATCH_JOB_ID: `${parent}:1`,
      AWS_BATCH_JOB_ATTEMPT: "1",
      AWS_BATCH_JOB_ARRAY_INDEX: "1",
      AWS_BATCH_JOB_ARRAY_SIZE: "3",
      AWS_BATCH_JQ_NAME: "low",
      AWS_BATCH_CE_NAME: "local",
      [START_JOB_ENV.runId]: planned.runId,
      [START_JOB_ENV.bucket]: "example-input-bucket",
      [START_JOB_ENV.key]: "incoming/input.bin",
      [START_JOB_ENV.versionId]: "local-test",
      [START_JOB_ENV.size]: "1024",
      [TASK_ENV.step]: "process",
      [TASK_ENV.taskCount]: "3",
      [TASK_ENV.arrayOffset]: "0",
      [TASK_ENV.outputBucket]: "example-input-bucket",
      [TASK_ENV.outputPrefix]: `results/${planned.runId}/`,
      PIPELINE_INPUT_PATH: "/data/input.bin",
      PIPELINE_OUTPUT_DIR: "/data/out",
    });
    // A plain job is not an array child: no index, no size, its own id.
    expect(prepare.environment.AWS_BATCH_JOB_ARRAY_INDEX).toBeUndefined();
    expect(prepare.environment.AWS_BATCH_JOB_ID).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(model.jobs.map((j) => j.status)).toEqual(["SUCCEEDED", "SUCCEEDED", "SUCCEEDED"]);
  });

  it("substitutes Ref:: parameters from the request, over the definition's command (Job definition parameters)", async () => {
    const { model } = await modelOf({
      // (An unfilled placeholder, which Batch would leave as text, is refused by the config: placeholdersRule.)
      jobDefinitions: { copy: process({ command: ["cp", "Ref::key", "out/Ref::step-Ref::arrayOffset"] }) },
      workflow: { steps: [{ name: "only", jobDefinition: "copy", parameters: { keyPrefix: "never" } }] },
    });
    const executor = new FakeExecutor();
    await scheduler(model, executor).run();
    expect(executor.launches[0]!.command).toEqual(["cp", "incoming/input.bin", "out/only-0"]);
  });

  it("runs a wide workflow (24,000 tasks over arrays split at 10,000, N_TO_N twins, barrier trees), each task after its dependencies", async () => {
    // How fast (under 1 s) is cli/run/bench.ts's target for the same shape, measured by `npm run bench`.
    const { model } = await modelOf({ jobDefinitions: { process: process() }, workflow: wideWorkflow("process") });
    expect(model.jobs.filter((j) => j.planned.kind === "barrier").length).toBeGreaterThan(0);
    const executor = new FakeExecutor(() => ({ exitCode: 0 }), "sync");
    const result = await scheduler(model, executor).run();
    expect(result.state).toBe("SUCCEEDED");
    expect(executor.launches).toHaveLength(1 + 10_750 * 2 + 2_500 + 1);
    expect(executor.labels().at(-1)).toBe("merge#1");
    // b's child i started only after a's child i (same chunk, same index) ended.
    const order = new Map(executor.launches.map((l, k) => [l.task.jobId, k]));
    for (const [k, bJob] of model.jobs.filter((j) => j.step.name === "b").entries()) {
      const aJob = model.jobs.filter((j) => j.step.name === "a")[k]!;
      for (const i of [0, 17, bJob.tasks.length - 1]) expect(order.get(bJob.tasks[i]!.jobId)!).toBeGreaterThan(order.get(aJob.tasks[i]!.jobId)!);
    }
    expect(model.jobs.every((j) => j.status === "SUCCEEDED")).toBe(true);
  });

  it("fails the dependents of a failed step without running them, and lets its siblings run", async () => {
    const { model } = await modelOf({
      jobDefinitions: { process: process() },
      workflow: {
        steps: [
          { name: "prepare", jobDefinition: "process" },
          { name: "bad", jobDefinition: "process", dependsOn: ["prepare"], width: { fixed: 3 } },
          { name: "good", jobDefinition: "process", dependsOn: ["prepare"], width: { fixed: 3 } },
          { name: "afterBad", jobDefinition: "process", dependsOn: ["bad"], width: { fixed: 2 } },
          { name: "merge", jobDefinition: "process", dependsOn: ["good", "afterBad"] },
        ],
      },
    });
    const executor = new FakeExecutor((l) => (l.job.step.name === "bad" && l.task.index === 1 ? { exitCode: 1 } : { exitCode: 0 }));
    const result = await scheduler(model, executor).run();
    expect(result.state).toBe("FAILED");
    expect(executor.labels().filter((l) => /^(afterBad|merge)/.test(l))).toEqual([]);
    expect(executor.labels().filter((l) => l.startsWith("good"))).toHaveLength(3);
    // The failed child's siblings in the same array job ran to the end too.
    expect(jobOf(model, "bad").tasks.map((t) => t.status)).toEqual(["SUCCEEDED", "FAILED", "SUCCEEDED"]);
    expect(jobOf(model, "bad")).toMatchObject({ status: "FAILED", statusReason: STATUS_REASONS.arrayChildFailed });
    expect(jobOf(model, "bad").tasks[1]).toMatchObject({ exitCode: 1, statusReason: STATUS_REASONS.exited, attempts: 1 });
    for (const id of ["afterBad", "merge"]) {
      expect(jobOf(model, id)).toMatchObject({ status: "FAILED", statusReason: STATUS_REASONS.dependencyFailed });
      expect(jobOf(model, id).tasks.every((t) => t.status === "FAILED" && t.attempts === 0 && t.statusReason === STATUS_REASONS.dependencyFailed)).toBe(true);
    }
    expect(jobOf(model, "good").status).toBe("SUCCEEDED");
  });

  it("N_TO_N: child i waits only for child i of its dependency, and fails alone when its twin fails", async () => {
    const { model } = await modelOf({
      jobDefinitions: { process: process() },
      workflow: {
        steps: [
          { name: "a", jobDefinition: "process", width: { fixed: 3 } },
          { name: "b", jobDefinition: "process", dependsOn: [{ step: "a", type: "N_TO_N" }], width: { fixed: 3 } },
          { name: "c", jobDefinition: "process", dependsOn: ["a"] },
        ],
      },
    });
    const executor = new FakeExecutor(() => "run");
    const done = scheduler(model, executor).run();
    await flush();
    const [a, b] = [jobOf(model, "a"), jobOf(model, "b")];
    expect(executor.labels()).toEqual(["a[0]#1", "a[1]#1", "a[2]#1"]);
    executor.finish(a.tasks[0]!.jobId, { exitCode: 0 });
    await flush();
    // b[0] starts while a[1] and a[2] still run.
    expect(executor.labels()).toEqual(["a[0]#1", "a[1]#1", "a[2]#1", "b[0]#1"]);
    executor.finish(a.tasks[2]!.jobId, { exitCode: 1 });
    await flush();
    expect(b.tasks[2]).toMatchObject({ status: "FAILED", attempts: 0, statusReason: STATUS_REASONS.dependencyFailed });
    expect(b.tasks[1]!.status).toBe("PENDING");
    executor.finish(a.tasks[1]!.jobId, { exitCode: 0 });
    await flush();
    expect(executor.labels().at(-1)).toBe("b[1]#1");
    executor.finish(b.tasks[0]!.jobId, { exitCode: 0 });
    executor.finish(b.tasks[1]!.jobId, { exitCode: 0 });
    const result = await done;
    expect(result.state).toBe("FAILED");
    expect(b.tasks.map((t) => t.status)).toEqual(["SUCCEEDED", "SUCCEEDED", "FAILED"]);
    expect(jobOf(model, "c")).toMatchObject({ status: "FAILED", statusReason: STATUS_REASONS.dependencyFailed });
  });
});

describe("local scheduler: retries (RetryStrategy and EvaluateOnExit, Batch API reference)", () => {
  const exits = (codes: Record<string, number[]>): Behaviour => (l) => ({ exitCode: codes[l.job.step.name]?.[l.attempt - 1] ?? 0 });

  async function retried(rules: object[], codes: number[], attempts = 3) {
    const { model } = await modelOf({ jobDefinitions: { process: process({ retryAttempts: attempts }) }, workflow: { steps: [{ name: "only", jobDefinition: "process" }] } });
    model.jobs[0]!.definition!.retryStrategy = { attempts, evaluateOnExit: rules as never };
    const executor = new FakeExecutor(exits({ only: codes }));
    const result = await scheduler(model, executor).run();
    return { result, task: model.jobs[0]!.tasks[0]!, attempts: executor.launches.map((l) => l.environment.AWS_BATCH_JOB_ATTEMPT) };
  }

  const rules = [
    { onExitCode: "3", action: "RETRY" },
    { onReason: "*", action: "EXIT" },
  ];

  it("retries an exit a rule says RETRY, as AWS_BATCH_JOB_ATTEMPT 1, 2, 3", async () => {
    const { result, task, attempts } = await retried(rules, [3, 3, 0]);
    expect(result.state).toBe("SUCCEEDED");
    expect(attempts).toEqual(["1", "2", "3"]);
    expect(task).toMatchObject({ status: "SUCCEEDED", attempts: 3, exitCode: 0 });
  });

  it("does not retry an exit the first matching rule says EXIT", async () => {
    const { result, task, attempts } = await retried(rules, [4, 0]);
    expect(result.state).toBe("FAILED");
    expect(attempts).toEqual(["1"]);
    expect(task).toMatchObject({ status: "FAILED", exitCode: 4, attempts: 1 });
  });

  it("retries when no rule matches, never beyond the definition's attempts", async () => {
    const { task, attempts } = await retried([{ onExitCode: "9*", action: "EXIT" }], [1, 1, 1, 0], 3);
    expect(attempts).toEqual(["1", "2", "3"]);
    expect(task).toMatchObject({ status: "FAILED", exitCode: 1, attempts: 3 });
  });

  it("applies the stack's own rules to a config's definition: Spot reclamation only, so a failing exit is not retried", async () => {
    const { model } = await modelOf({ jobDefinitions: { process: process({ retryAttempts: 5 }) }, workflow: { steps: [{ name: "only", jobDefinition: "process" }] } });
    expect(model.jobs[0]!.definition!.retryStrategy.attempts).toBe(5);
    const executor = new FakeExecutor(exits({ only: [1, 0] }));
    expect((await scheduler(model, executor).run()).state).toBe("FAILED");
    expect(executor.launches).toHaveLength(1);
  });
});

describe("local scheduler: a definition's retryOn, as the stack renders it", () => {
  const exits = (codes: number[]): Behaviour => (l) => ({ exitCode: codes[l.attempt - 1] ?? 0 });
  const run = async (codes: number[]) => {
    const { model } = await modelOf({
      jobDefinitions: { process: process({ retryAttempts: 3, retryOn: { exitCodes: [75], statusReasons: ["Task failed to start*"] } }) },
      workflow: { steps: [{ name: "only", jobDefinition: "process" }] },
    });
    const executor = new FakeExecutor(exits(codes));
    const result = await scheduler(model, executor).run();
    return { model, result, launches: executor.launches.length };
  };

  it("renders the stack's rules: the Spot rules, RETRY on exit 75 and the status reason, then EXIT", async () => {
    const { model } = await run([0]);
    expect(model.jobs[0]!.definition!.retryStrategy.evaluateOnExit).toEqual([
      { onStatusReason: "Host EC2*", action: "RETRY" },
      { onStatusReason: "Your Spot Task was interrupted*", action: "RETRY" },
      { onExitCode: "75", action: "RETRY" },
      { onStatusReason: "Task failed to start*", action: "RETRY" },
      { onReason: "*", action: "EXIT" },
    ]);
  });

  it("retries exit 75 up to retryAttempts, and fails at once on any other exit", async () => {
    expect(await run([75, 75, 0])).toMatchObject({ result: { state: "SUCCEEDED" }, launches: 3 });
    expect(await run([75, 75, 75])).toMatchObject({ result: { state: "FAILED" }, launches: 3 });
    expect(await run([1, 0])).toMatchObject({ result: { state: "FAILED" }, launches: 1 });
  });
});

describe("local scheduler: timeouts (Job timeouts, Batch user guide) and limits", () => {
  it("stops an attempt at its definition's timeoutSeconds and fails it without a retry", async () => {
    const { model } = await modelOf({ jobDefinitions: { process: process({ timeoutSeconds: 60 }) }, workflow: { steps: [{ name: "slow", jobDefinition: "process" }] } });
    model.jobs[0]!.definition!.retryStrategy = { attempts: 3, evaluateOnExit: [] };
    const clock = fakeClock();
    const executor = new FakeExecutor(() => "run");
    const done = scheduler(model, executor, clock).run();
    await flush();
    clock.advance(59_999);
    expect([...executor.live.values()][0]!.stops).toEqual([]);
    clock.advance(1);
    const result = await done;
    expect(result.state).toBe("FAILED");
    expect(executor.launches).toHaveLength(1);
    expect(model.jobs[0]!.tasks[0]).toMatchObject({ status: "FAILED", exitCode: 143, statusReason: STATUS_REASONS.timedOut, attempts: 1 });
    expect(clock.pending).toBe(0);
  });

  it("never runs more than --jobs attempts, nor more vCPUs or MiB than the machine has", async () => {
    const wide = (vcpus: number, memoryMiB: number) => ({ jobDefinitions: { process: process({ vcpus, memoryMiB }) }, workflow: { steps: [{ name: "w", jobDefinition: "process", width: { fixed: 40 } }] } });
    const run = async (overrides: Record<string, unknown>, limits: typeof BIG_MACHINE, vcpus?: number) => {
      const { model } = await modelOf(overrides);
      // Fargate sizes (0.25 vCPU) need a Fargate queue in the config; the scheduler only sums them.
      if (vcpus !== undefined) model.jobs[0]!.definition!.vcpus = vcpus;
      const executor = new FakeExecutor();
      expect((await scheduler(model, executor, fakeClock(), limits).run()).state).toBe("SUCCEEDED");
      return executor.peak;
    };
    expect(await run(wide(1, 128), { maxTasks: 3, cpus: 64, memoryMiB: 1 << 20 })).toBe(3);
    expect(await run(wide(2, 128), { maxTasks: 64, cpus: 5, memoryMiB: 1 << 20 })).toBe(2);
    expect(await run(wide(1, 128), { maxTasks: 64, cpus: 2, memoryMiB: 1 << 20 }, 0.25)).toBe(8);
    expect(await run(wide(1, 1000), { maxTasks: 64, cpus: 64, memoryMiB: 4500 })).toBe(4);
  });

  it("rejects a run whose next task can never fit, instead of hanging", async () => {
    const { model } = await modelOf({ jobDefinitions: { process: process({ vcpus: 4 }) }, workflow: { steps: [{ name: "big", jobDefinition: "process" }] } });
    await expect(scheduler(model, new FakeExecutor(), fakeClock(), { maxTasks: 4, cpus: 2, memoryMiB: 1 << 20 }).run()).rejects.toThrow(/needs 4 vCPUs .* more than 2 CPUs/);
  });

  it("on interrupt, stops every running attempt, starts nothing more and reports what it stopped", async () => {
    const { model } = await modelOf({ jobDefinitions: { process: process() }, workflow: { steps: [{ name: "w", jobDefinition: "process", width: { fixed: 10 } }, { name: "after", jobDefinition: "process", dependsOn: ["w"] }] } });
    const executor = new FakeExecutor(() => "run");
    const s = scheduler(model, executor, fakeClock(), { maxTasks: 4, cpus: 64, memoryMiB: 1 << 20 });
    const done = s.run();
    await flush();
    const stopped = s.interrupt();
    expect(stopped.map((t) => t.task.number)).toEqual([0, 1, 2, 3]);
    expect(stopped[0]!.what).toMatch(/^fake /);
    const result = await done;
    expect(result.state).toBe("INTERRUPTED");
    expect(executor.launches).toHaveLength(4);
    expect(model.jobs[0]!.counts).toMatchObject({ CANCELLED: 4, FAILED: 0, RUNNABLE: 6 });
    expect(model.jobs[0]!.tasks.slice(0, 4).map((t) => t.status)).toEqual(["CANCELLED", "CANCELLED", "CANCELLED", "CANCELLED"]);
    expect(model.jobs[0]!.tasks[0]!.statusReason).toBe(STATUS_REASONS.interrupted);
  });
});
