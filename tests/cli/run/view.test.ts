/**
 * The views of `batch-pipeline run` on the scheduler's events, with a fake clock and fake attempts: the
 * TTY screen keeps redrawing while tasks run, so the time running steps have taken keeps counting.
 */
import { describe, expect, it } from "vitest";
import { LocalScheduler } from "../../../cli/run/scheduler";
import type { RunPlace } from "../../../cli/run/screen";
import { localFailures, localSnapshot, summarize } from "../../../cli/run/snapshot";
import { exitCodeOfRun, jsonView, ttyView, type ViewContext } from "../../../cli/run/view";
import { cliContext } from "../support";
import { fakeClock, FakeExecutor, flush, modelOf } from "./support";

const job = (extra: Record<string, unknown> = {}) => ({ image: "public.ecr.aws/docker/library/busybox:1.37", command: ["true"], ...extra });
const PLACE: RunPlace = { cwd: "/work", config: { stack: "dev", file: "/work/Pulumi.dev.yaml", chosenBy: "--stack" }, file: "/work/in.csv", runDir: "/work/dist/runs/r", outputDir: "/work/dist/runs/r/output", executor: "fake", maxTasks: 4, cpus: 4, memoryMiB: 8192 };

/** The screen last drawn (what the terminal shows), without escape codes. */
const lastScreen = (stdout: string) =>
  stdout
    .slice(stdout.includes("\x1b[J") ? stdout.lastIndexOf("\x1b[J") + 3 : 0)
    .replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, "")
    .split("\n");

/** A TTY (or `--json`) view of a run of `work` (2 tasks, running until told) then `after`, on a fake clock. */
async function ttyRun(make = ttyView) {
  const { model } = await modelOf({ jobDefinitions: { p: job() }, workflow: { steps: [{ name: "work", jobDefinition: "p", width: { fixed: 2 } }, { name: "after", jobDefinition: "p", dependsOn: ["work"] }] } });
  const clock = fakeClock();
  const ctx = cliContext({ isTTY: true, columns: 100, now: clock.now() });
  const startedAt = clock.now();
  const v: ViewContext = { ctx, model, place: PLACE, startedAt, clock, snapshot: () => localSnapshot(model, undefined, startedAt) };
  const view = make(v);
  const executor = new FakeExecutor((l) => (l.job.step.name === "work" ? "run" : { exitCode: 0 }));
  const scheduler = new LocalScheduler(model, { executor, clock, maxTasks: 4, cpus: 4, memoryMiB: 1 << 20, onEvent: (task, event) => view.event(task, event) });
  view.begin(v.snapshot());
  const result = scheduler.run();
  await flush();
  return { model, clock, ctx, view, executor, result, startedAt, scheduler };
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

  it("after Ctrl-C, ends with the run INTERRUPTED, the stopped tasks CANCELLED (counted apart, not failures), the step never started NOT RUN", async () => {
    for (const make of [ttyView, jsonView]) {
      const { clock, ctx, view, result, model, startedAt, scheduler } = await ttyRun(make);
      clock.advance(3_000);
      const stopped = scheduler.interrupt();
      await flush();
      const { state, stoppedAt } = await result;
      // As `run` ends (cli/run/command.ts).
      const snapshot = localSnapshot(model, undefined, startedAt, stoppedAt, state === "INTERRUPTED");
      view.end({ state, snapshot, failures: localFailures(model, snapshot), summary: summarize(model, startedAt, stoppedAt), exitCode: exitCodeOfRun(state), stopped });
      view.close();
      if (make === jsonView) {
        const events = ctx.stdout().trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
        expect(events.filter((e) => e.event === "task").map((e) => `${e.task} ${e.status}`)).toEqual(["0 CANCELLED", "1 CANCELLED"]);
        expect(events.filter((e) => e.event === "step").map((e) => `${e.step} ${e.state}`)).toEqual(["work RUNNING", "work CANCELLED"]);
        expect(events.at(-1)).toMatchObject({ event: "end", state: "INTERRUPTED", exitCode: 130, failed: 0, cancelled: 2, notRun: 1, failures: [] });
        continue;
      }
      const screen = lastScreen(ctx.stdout());
      expect(screen[0]).toBe(`run ${model.plan.runId}  INTERRUPTED  0/3 tasks done, 2 cancelled`);
      expect(screen.slice(screen.indexOf("") + 1)).toEqual([
        "├─ work   CANCELLED  0/2  ······························  3s",
        "│         2 cancelled",
        "└─ after  NOT RUN    0/1  ······························",
        "",
        expect.stringMatching(/^interrupted: stopped 2 running tasks \(work\[0\] fake .*, work\[1\] fake .*\); 1 task never started$/),
        `run ${model.plan.runId} INTERRUPTED by Ctrl-C after 3s: 2 of 3 tasks run, 2 cancelled, 0 failed, 1 not run, 0 retried; slowest step work (3s)`,
        "output and logs: dist/runs/r/",
        "",
      ]);
    }
  });
});
