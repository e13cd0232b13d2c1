/**
 * The views of `batch-pipeline run` on the scheduler's events, with a fake clock and fake attempts: the
 * TTY screen keeps redrawing while tasks run, so the time running steps have taken keeps counting.
 */
import { describe, expect, it } from "vitest";
import { LocalScheduler } from "../../../cli/local/scheduler";
import type { RunPlace } from "../../../cli/local/screen";
import { localSnapshot } from "../../../cli/local/snapshot";
import { ttyView, type ViewContext } from "../../../cli/local/view";
import { cliContext } from "../support";
import { FakeClock, FakeExecutor, flush, modelOf } from "./support";

const job = (extra: Record<string, unknown> = {}) => ({ image: "public.ecr.aws/docker/library/busybox:1.37", command: ["true"], ...extra });
const PLACE: RunPlace = { cwd: "/work", config: { stack: "dev", file: "/work/Pulumi.dev.yaml", chosenBy: "--stack" }, file: "/work/in.csv", runDir: "/work/dist/runs/r", outputDir: "/work/dist/runs/r/output", executor: "fake", maxTasks: 4, cpus: 4, memoryMiB: 8192 };

/** The screen last drawn (what the terminal shows), without escape codes. */
const lastScreen = (stdout: string) =>
  stdout
    .slice(stdout.includes("\x1b[J") ? stdout.lastIndexOf("\x1b[J") + 3 : 0)
    .replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, "")
    .split("\n");

/** A TTY view of a run of `work` (2 tasks, running until told) then `after`, on a fake clock. */
async function ttyRun() {
  const { model } = await modelOf({ jobDefinitions: { p: job() }, workflow: { steps: [{ name: "work", jobDefinition: "p", width: { fixed: 2 } }, { name: "after", jobDefinition: "p", dependsOn: ["work"] }] } });
  const clock = new FakeClock();
  const ctx = cliContext({ isTTY: true, columns: 100, now: clock.time });
  const startedAt = clock.now();
  const v: ViewContext = { ctx, model, place: PLACE, startedAt, clock, snapshot: () => localSnapshot(model, undefined, startedAt) };
  const view = ttyView(v);
  const executor = new FakeExecutor((l) => (l.job.step.name === "work" ? "run" : { exitCode: 0 }));
  const scheduler = new LocalScheduler(model, { executor, clock, maxTasks: 4, cpus: 4, memoryMiB: 1 << 20, onEvent: (task, event) => view.event(task, event) });
  view.begin(v.snapshot());
  const result = scheduler.run();
  await flush();
  return { model, clock, ctx, view, executor, result };
}

describe("run's TTY screen while tasks run", () => {
  it("redraws every second with no task event, the running step's time and the run's age counting up", async () => {
    const { clock, ctx, view, executor, result, model } = await ttyRun();
    const stepLine = () => lastScreen(ctx.stdout()).find((l) => l.startsWith("├─ work"));
    const started = () => lastScreen(ctx.stdout()).find((l) => l.startsWith("started "));
    clock.advance(100);
    expect(stepLine()).toMatch(/^├─ work +RUNNING +0\/2 +▒+·* +100ms$/);
    clock.advance(1_000);
    expect(stepLine()).toMatch(/ 1s$/);
    expect(started()).toBe("started  2026-12-01 12:00:00Z, 1s ago");
    const drawn = ctx.stdout().split("\x1b[J").length;
    clock.advance(60_000);
    expect(stepLine()).toMatch(/ 1m 01s$/);
    expect(started()).toBe("started  2026-12-01 12:00:00Z, 1m 01s ago");
    // Once a second, not more.
    expect(ctx.stdout().split("\x1b[J").length - drawn).toBe(60);

    // The step's time stops when it ends; the screen stops redrawing once the run has ended.
    for (const task of model.jobs[0]!.tasks) executor.finish(task.jobId, { exitCode: 0 });
    await flush();
    clock.advance(5_000);
    expect(stepLine()).toMatch(/^├─ work +SUCCEEDED +2\/2 +█+ +1m 01s$/);
    const ended = await result;
    expect(ended.state).toBe("SUCCEEDED");
    view.close();
    expect(clock.pending).toBe(0);
  });
});
