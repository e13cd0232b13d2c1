/**
 * A local run as `status` draws it: the snapshot's steps come from the run model's own grouping, the
 * O(1) step state the plain view uses agrees with it at every event, and failures list log files.
 */
import { describe, expect, it } from "vitest";
import { colors } from "../../../cli/app/context";
import { groupSteps } from "../../../cli/runModel/model";
import { LocalScheduler } from "../../../cli/run/scheduler";
import { renderLocal, type RunPlace } from "../../../cli/run/screen";
import { localFailures, localSnapshot, runJobOf, stepState, summarize } from "../../../cli/run/snapshot";
import { fakeClock, FakeExecutor, modelOf } from "./support";

const job = (extra: Record<string, unknown> = {}) => ({ image: "public.ecr.aws/docker/library/busybox:1.37", command: ["true"], ...extra });
const PLACE: RunPlace = { cwd: "/work", config: { stack: "dev", file: "/work/Pulumi.dev.yaml", chosenBy: "--stack" }, file: "/work/in.csv", runDir: "/work/dist/runs/r", outputDir: "/work/dist/runs/r/output", executor: "fake", maxTasks: 4, cpus: 4, memoryMiB: 8192 };

describe("local snapshot", () => {
  it("gives each step the state `groupSteps` gives its jobs, after every event of a run with failures, N_TO_N and barriers", async () => {
    const fanIn = Array.from({ length: 21 }, (_, i) => ({ name: `f${i}`, jobDefinition: "p", width: { fixed: 2 } }));
    const { model } = await modelOf({
      jobDefinitions: { p: job() },
      workflow: {
        steps: [
          { name: "a", jobDefinition: "p", width: { fixed: 4 } },
          { name: "b", jobDefinition: "p", dependsOn: [{ step: "a", type: "N_TO_N" }], width: { fixed: 4 } },
          ...fanIn,
          { name: "m", jobDefinition: "p", dependsOn: fanIn.map((s) => s.name) },
          { name: "n", jobDefinition: "p", dependsOn: ["b", "m"] },
        ],
      },
    });
    const executor = new FakeExecutor((l) => ({ exitCode: (l.job.step.name === "a" && l.task.index === 2) || l.job.step.name === "f3" ? 1 : 0 }));
    const checked: string[] = [];
    const disagreed: string[] = [];
    const scheduler = new LocalScheduler(model, {
      executor,
      clock: fakeClock(),
      maxTasks: 3,
      cpus: 8,
      memoryMiB: 1 << 20,
      onEvent: (task) => {
        const step = task.job.step;
        const grouped = groupSteps([...step.barriers, ...step.jobs].map((j) => runJobOf(j, 0)))[0]!;
        checked.push(`${step.name} ${stepState(step)}`);
        if (stepState(step) !== grouped.state) disagreed.push(`${step.name} after ${task.jobId}: ${stepState(step)}, groupSteps ${grouped.state}`);
      },
    });
    expect((await scheduler.run()).state).toBe("FAILED");
    expect(checked.length).toBeGreaterThan(50);
    expect(disagreed).toEqual([]);
    const snapshot = localSnapshot(model, undefined, 0, 1);
    expect(snapshot.steps.map((s) => `${s.name} ${s.state}`)).toEqual(model.steps.map((s) => `${s.name} ${stepState(s)}`));
    expect(snapshot.steps.find((s) => s.name === "m")!.barriers).toHaveLength(1);
    expect(snapshot.state).toBe("FAILED");
    expect(summarize(model, 0, 1)).toMatchObject({ tasks: 4 + 4 + 42 + 2, failed: 1 + 1 + 1 + 1 + 1 + 1, neverRan: 1 + 1 + 1 });
  });

  it("lists failed children with their log files, and the rest of a long list as the step's log directory", async () => {
    const { model } = await modelOf({ jobDefinitions: { p: job() }, workflow: { steps: [{ name: "w", jobDefinition: "p", width: { fixed: 8 } }, { name: "after", jobDefinition: "p", dependsOn: ["w"] }] } });
    const executor = new FakeExecutor((l) => ({ exitCode: l.task.index === 0 ? 0 : 2 }));
    await new LocalScheduler(model, { executor, clock: fakeClock(), maxTasks: 8, cpus: 8, memoryMiB: 1 << 20 }).run();
    const snapshot = localSnapshot(model, { bucket: "b", key: "incoming/in.csv", versionId: "local-x", sizeBytes: 10 }, 0, 5);
    const failures = localFailures(model, snapshot);
    expect(failures.map((f) => [f.job.step, f.failedTasks, f.children.length, f.listed, f.job.spawned])).toEqual([
      ["w", 7, 5, true, 8],
      ["after", 1, 0, false, 0],
    ]);
    const lines = renderLocal(snapshot, failures, PLACE, { color: colors(false), columns: 80, now: 5 });
    expect(lines.slice(4, 8)).toEqual([
      "config   stack dev (Pulumi.dev.yaml)",
      "file     in.csv (PIPELINE_INPUT_PATH)",
      "output   dist/runs/r/output (PIPELINE_OUTPUT_DIR), logs in dist/runs/r/logs/<step>/<task>.log",
      "runs on  fake executor: at most 4 tasks at once, 4 CPUs, 8.0 GiB",
    ]);
    const failed = lines.slice(lines.indexOf("failed"));
    expect(failed).toEqual([
      "failed",
      "  w: 7 of 8 tasks failed",
      "    task 1  exit 2  Essential container in task exited",
      "      dist/runs/r/logs/w/1.log",
      "    task 2  exit 2  Essential container in task exited",
      "      dist/runs/r/logs/w/2.log",
      "    task 3  exit 2  Essential container in task exited",
      "      dist/runs/r/logs/w/3.log",
      "    task 4  exit 2  Essential container in task exited",
      "      dist/runs/r/logs/w/4.log",
      "    task 5  exit 2  Essential container in task exited",
      "      dist/runs/r/logs/w/5.log",
      "    … 2 more failed: their logs are in dist/runs/r/logs/w/",
      "  after: Dependent Job failed (never ran)",
    ]);
  });
});
