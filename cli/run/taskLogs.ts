/**
 * Where a local run keeps each task's output, and `--follow`'s lines. In AWS every attempt of a task has
 * a CloudWatch Logs stream; locally every task has one file, `<out>/<run id>/logs/<step>/<task>.log`
 * (the task's number within its step: 0 for a step of one task), its attempts one after the other.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { LocalTask } from "./model";

/** `<run dir>/logs`. */
export const logsDir = (runDir: string) => join(runDir, "logs");

/** `<run dir>/logs/<step>/<task>.log`. */
export const taskLogPath = (runDir: string, step: string, task: number) => join(logsDir(runDir), step, `${task}.log`);

/** The line that starts attempt 2, 3, … in a task's log file. */
export const attemptHeader = (attempt: number) => `--- batch-pipeline: attempt ${attempt} ---\n`;

/** Log files of one run: paths, and each step's directory made once. */
export class TaskLogs {
  private readonly made = new Set<string>();
  constructor(readonly runDir: string) {}

  /** The task's log file, its directory made. */
  fileOf(task: LocalTask): string {
    const step = task.job.step.name;
    if (!this.made.has(step)) {
      mkdirSync(join(logsDir(this.runDir), step), { recursive: true });
      this.made.add(step);
    }
    return taskLogPath(this.runDir, step, task.number);
  }
}

/**
 * Output chunks of many tasks as whole lines: a chunk may end mid-line (a pipe gives what is there), so
 * the rest waits for the task's next chunk or its end.
 */
export class LineBuffer<K> {
  private readonly partial = new Map<K, string>();

  /** The complete lines `chunk` finishes for `key` (without their line ends). */
  push(key: K, chunk: string): string[] {
    const text = (this.partial.get(key) ?? "") + chunk;
    const lines = text.split(/\r?\n/);
    const rest = lines.pop()!;
    if (rest === "") this.partial.delete(key);
    else this.partial.set(key, rest);
    return lines;
  }

  /** What is left of `key`'s output when it ended without a final line end. */
  end(key: K): string[] {
    const rest = this.partial.get(key);
    this.partial.delete(key);
    return rest === undefined ? [] : [rest];
  }
}
