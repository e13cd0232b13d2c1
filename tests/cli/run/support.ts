/**
 * Local-run test kit: a planned model for any config (the planner's real plan, no file needed), the fake
 * clock (tests/support/clock.ts) at the tests' noon, whose timers fire only when the test advances it, and
 * a fake executor whose attempts end as the test says (at once, when told, or never until stopped) and
 * which records every launch.
 */
import { parsePipelineConfig } from "../../../stack/config";
import type { Target } from "../../../cli/stack/target";
import type { AttemptEnd, Execution, Executor, Launch, StopCause } from "../../../cli/run/executor";
import { FakeClock } from "../../support/clock";
import { buildModel, type LocalRunModel, type TaskPaths } from "../../../cli/run/model";
import { localPlan, type LocalPlan } from "../../../cli/run/plan";

export const PATHS: TaskPaths = { inputPath: "/data/input.bin", outputDir: "/data/out" };

/** The default config with `overrides` (e.g. `{ jobDefinitions, workflow }`), as `plan` sees it without a stack. */
export function targetOf(overrides: Record<string, unknown> = {}): Target {
  return { what: "the test config", source: { stacks: [] }, config: parsePipelineConfig(overrides), stackId: "example-stack", bucket: "example-input-bucket" };
}

/** The plan and model of a run over an object of `sizeBytes` (no file read). */
export async function modelOf(overrides: Record<string, unknown> = {}, sizeBytes = 1024): Promise<{ planned: LocalPlan; model: LocalRunModel }> {
  const target = targetOf(overrides);
  const input = { file: PATHS.inputPath, bucket: target.bucket, key: `${target.config.trigger.prefix}input.bin`, versionId: "local-test", sizeBytes };
  const planned = await localPlan(target, input, undefined);
  return { planned, model: buildModel(planned.plan, planned.definitionsByName, PATHS) };
}

/** The local runner's clock (tests/support/clock.ts), at the tests' noon: timers fire only as the test advances it. */
export const fakeClock = (): FakeClock => new FakeClock(Date.parse("2026-12-01T12:00:00Z"));

/** What an attempt does: end at once, or stay running until {@link FakeExecutor.finish} or a stop. */
export type Behaviour = (launch: Launch) => AttemptEnd | "run";

interface Live {
  launch: Launch;
  end: (end: AttemptEnd) => void;
  stops: StopCause[];
}

/** Attempts as the test scripts them; `ending: "sync"` ends them inside `start`, `"async"` on a microtask. */
export class FakeExecutor implements Executor {
  readonly name = "fake";
  readonly paths = PATHS;
  readonly launches: Launch[] = [];
  readonly live = new Map<string, Live>();
  /** Most attempts running at once. */
  peak = 0;
  constructor(
    private readonly behaviour: Behaviour = () => ({ exitCode: 0 }),
    private readonly ending: "sync" | "async" = "async",
  ) {}
  problem = () => undefined;
  start(launch: Launch, onEnd: (end: AttemptEnd) => void): Execution {
    this.launches.push(launch);
    const key = `${launch.task.jobId}#${launch.attempt}`;
    const live: Live = { launch, end: onEnd, stops: [] };
    const outcome = this.behaviour(launch);
    if (outcome === "run") {
      this.live.set(key, live);
      this.peak = Math.max(this.peak, this.live.size);
    } else if (this.ending === "sync") onEnd(outcome);
    else {
      this.live.set(key, live);
      this.peak = Math.max(this.peak, this.live.size);
      queueMicrotask(() => this.live.delete(key) && onEnd(outcome));
    }
    return {
      stop: (cause) => {
        live.stops.push(cause);
        // Like a process that dies on SIGTERM: exit 143.
        if (this.live.delete(key)) queueMicrotask(() => onEnd({ exitCode: 143 }));
      },
      describe: () => `fake ${key}`,
    };
  }
  /** Ends a running attempt of the task whose job id is `jobId`. */
  finish(jobId: string, end: AttemptEnd): void {
    const key = [...this.live.keys()].find((k) => k.startsWith(`${jobId}#`));
    if (!key) throw new Error(`no live attempt of ${jobId}; live: ${[...this.live.keys()].join(", ")}`);
    const live = this.live.get(key)!;
    this.live.delete(key);
    live.end(end);
  }
  /** Labels (`step[task]#attempt`) of the launches, in order. */
  labels(): string[] {
    return this.launches.map((l) => `${l.job.step.name}${l.job.step.width > 1 ? `[${l.task.number}]` : ""}#${l.attempt}`);
  }
}

/** Lets queued microtasks (fake attempt ends) run. */
export const flush = async (rounds = 5) => {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};
