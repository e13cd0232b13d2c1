/**
 * What runs one attempt of a task (an {@link Executor}: the host's processes, Docker containers, or a
 * fake in tests and the benchmark) and what the scheduler tells it. The scheduler stays pure: it hands
 * an executor a {@link Launch}, gets the attempt's end through a callback, and asks it to stop an attempt
 * (its timeout passed, or Ctrl-C); clocks and timers come in as a {@link Clock}.
 */
import type { LocalJob, LocalTask, TaskPaths } from "./model";

/** One attempt to start. */
export interface Launch {
  task: LocalTask;
  job: LocalJob;
  /** From 1. */
  attempt: number;
  image: string;
  /** Undefined: the image's own command. */
  command?: readonly string[];
  environment: Readonly<Record<string, string>>;
  vcpus: number;
  memoryMiB: number;
}

/** How an attempt ended. */
export interface AttemptEnd {
  /** The container's exit code; 128 + N when a signal N ended it; none when it never started. */
  exitCode?: number;
  /** The container's reason when it could not start (`CannotStartContainerError: …`). */
  reason?: string;
}

/** Why an attempt is being stopped. */
export type StopCause = "timeout" | "interrupt";

/** A started attempt. */
export interface Execution {
  /** Stops it: SIGTERM, then SIGKILL after a grace period (for Ctrl-C, a short one). Its end is still reported. */
  stop(cause: StopCause): void;
  /** What is running, for the user: `pid 4242`, `container bp-…`. */
  describe(): string;
}

/** Runs attempts. `onEnd` is called exactly once per started attempt, possibly before `start` returns. */
export interface Executor {
  /** `process` or `docker`; `fake` in tests. */
  readonly name: string;
  /** Where a task sees the input file and the output directory. */
  readonly paths: TaskPaths;
  /**
   * Why this executor cannot run `job`'s tasks (an image it cannot stand in for, a command that is not
   * on this machine), naming the value and what to do; undefined when it can.
   */
  problem(job: LocalJob): string | undefined;
  start(launch: Launch, onEnd: (end: AttemptEnd) => void): Execution;
}

/** Time, and timers the scheduler can cancel. */
export interface Clock {
  now(): number;
  setTimer(ms: number, fire: () => void): () => void;
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (ms, fire) => {
    const timer = setTimeout(fire, ms);
    return () => clearTimeout(timer);
  },
};

/**
 * An executor that starts nothing and ends every attempt with exit 0 at once (within `start`): what the
 * scheduler costs by itself, for the benchmark.
 */
export function noopExecutor(paths: TaskPaths = { inputPath: "/dev/null", outputDir: "/tmp" }): Executor {
  return {
    name: "noop",
    paths,
    problem: () => undefined,
    start: (_launch, onEnd) => {
      onEnd({ exitCode: 0 });
      return { stop: () => undefined, describe: () => "nothing" };
    },
  };
}

/** `signal` as the exit code a container reports for it (128 + its number), as Docker and ECS do. */
export function signalExitCode(signal: NodeJS.Signals | null, signals: Readonly<Record<string, number>>): number | undefined {
  if (!signal) return undefined;
  const n = signals[signal];
  return n === undefined ? undefined : 128 + n;
}
