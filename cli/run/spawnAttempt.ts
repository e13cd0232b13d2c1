/**
 * One attempt as a child process of its own process group (`detached`, so a terminal's Ctrl-C reaches
 * only `batch-pipeline`, which then stops each group itself), its stdout and stderr appended to the
 * task's log file (handed to the child as is, or through pipes when `--follow` also streams them).
 * When the process ends, what it left behind in its group is killed, as a container's end kills
 * everything in it; and when `batch-pipeline` itself exits (a second Ctrl-C, a crash), every group still
 * running is killed, so a local run never leaves a process behind.
 */
import { type ChildProcess, spawn, type SpawnOptions } from "node:child_process";
import { closeSync, openSync, writeSync } from "node:fs";
import { constants } from "node:os";
import { StringDecoder } from "node:string_decoder";
import { type AttemptEnd, signalExitCode } from "./executor";
import { attemptHeader } from "./taskLogs";

/** Process groups of attempts still running, killed when this process exits. */
const liveGroups = new Set<number>();
let exitHooked = false;

function killAllOnExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on("exit", () => {
    for (const pgid of liveGroups) signalGroup(pgid, "SIGKILL");
  });
}

/** Signals every process of group `pgid`; false when none is left. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** What to run and where its output goes. */
export interface AttemptSpec {
  file: string;
  args: readonly string[];
  env: Record<string, string>;
  cwd: string;
  logFile: string;
  attempt: number;
  /** Also hands each chunk of output (stdout and stderr) here, as text. */
  onOutput?: (chunk: string) => void;
}

/** A started attempt: its pid (undefined if it could not start) and its child process. */
export interface SpawnedAttempt {
  pid: number | undefined;
  child: ChildProcess | undefined;
  /** Whether it has ended. */
  ended(): boolean;
}

/** Spawns the attempt; `onEnd` is called once, after its output is in the log file. */
export function spawnAttempt(spec: AttemptSpec, onEnd: (end: AttemptEnd) => void): SpawnedAttempt {
  const fd = openSync(spec.logFile, spec.attempt === 1 ? "w" : "a");
  if (spec.attempt > 1) writeSync(fd, attemptHeader(spec.attempt));
  let done = false;
  let pid: number | undefined;
  const finish = (end: AttemptEnd) => {
    if (done) return;
    done = true;
    if (pid !== undefined) liveGroups.delete(pid);
    if (spec.onOutput) closeSync(fd);
    onEnd(end);
  };
  const options: SpawnOptions = { cwd: spec.cwd, env: spec.env, detached: true, stdio: spec.onOutput ? ["ignore", "pipe", "pipe"] : ["ignore", fd, fd] };
  let child: ChildProcess;
  try {
    child = spawn(spec.file, [...spec.args], options);
  } catch (error) {
    closeSync(fd);
    done = true;
    onEnd({ reason: `CannotStartContainerError: ${(error as Error).message}` });
    return { pid: undefined, child: undefined, ended: () => true };
  }
  pid = child.pid;
  if (!spec.onOutput) closeSync(fd);
  if (pid !== undefined) {
    killAllOnExit();
    liveGroups.add(pid);
  }
  if (spec.onOutput) {
    // One decoder per stream: a chunk may end inside a multi-byte character.
    for (const stream of [child.stdout!, child.stderr!]) {
      const decoder = new StringDecoder("utf8");
      stream.on("data", (chunk: Buffer) => {
        writeSync(fd, chunk);
        const text = decoder.write(chunk);
        if (text !== "") spec.onOutput!(text);
      });
    }
  }
  child.on("error", (error) => finish({ reason: `CannotStartContainerError: ${error.message}` }));
  // The container's end is its main process's: whatever that left running in its group goes with it.
  child.on("exit", () => pid !== undefined && signalGroup(pid, "SIGKILL"));
  child.on("close", (code, signal) => {
    const exitCode = code ?? signalExitCode(signal, constants.signals);
    finish(exitCode === undefined ? {} : { exitCode });
  });
  return { pid, child, ended: () => done };
}
