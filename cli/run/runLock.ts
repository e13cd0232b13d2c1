/**
 * One `batch-pipeline run` at a time in a run's folder. The same file gives the same run id, hence the
 * same `<out>/<run id>/`, and a run replaces the last run's output and logs there: a second run of the file
 * started while the first still runs would delete the first one's folder under it. So a run first takes
 * `<out>/<run id>/.lock`, created exclusively (`wx`: it fails when the file exists) and holding its pid,
 * and removes it when it ends. A lock whose pid no longer runs (a run killed before it could remove it)
 * is stale: it is taken over, once (if another run takes it over first, that run holds it).
 */
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CliError } from "../app/errors";

/** The lock's name in the run's folder (kept when a run replaces the folder's other contents). */
export const LOCK_FILE = ".lock";

/** A lock with no pid in it yet is being written for this long at most; older, its writer died. */
const UNWRITTEN_MS = 5_000;

/** A held lock. */
export interface RunLock {
  path: string;
  /** The pid of the run whose stale lock this one replaced. */
  tookOverFrom?: number;
  /** Removes the lock, if it is still this run's. */
  release(): void;
}

/** Whether `pid` is a running process (one of another user's answers EPERM: it runs). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The pid in a lock file, undefined when it has none (yet); null when the file is gone. */
function holderOf(path: string): number | undefined | null {
  try {
    const pid = Number(readFileSync(path, "utf8").trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

function modifiedAt(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/**
 * Takes the lock of `runDir` (created if missing) for `pid`.
 * @throws CliError (usage, exit 2) naming the pid that runs there and the folder, when a live run holds it.
 */
export function lockRunDir(runDir: string, o: { pid?: number; alive?: (pid: number) => boolean; now?: () => number } = {}): RunLock {
  const { pid = process.pid, alive = pidAlive, now = Date.now } = o;
  const path = join(runDir, LOCK_FILE);
  mkdirSync(runDir, { recursive: true });
  let tookOverFrom: number | undefined;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, `${pid}\n`, { flag: "wx" });
      return {
        path,
        ...(tookOverFrom !== undefined ? { tookOverFrom } : {}),
        release: () => {
          if (holderOf(path) === pid) rmSync(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = holderOf(path);
    if (holder === null) continue;
    const writtenAt = holder === undefined ? modifiedAt(path) : undefined;
    if (holder === undefined && writtenAt === undefined) continue;
    const held = holder === undefined ? now() - writtenAt! < UNWRITTEN_MS : alive(holder);
    if (held) {
      throw new CliError(
        `another run of this file is running in ${runDir} (pid ${holder ?? "unknown, starting"}; lock ${path}): it would delete that run's output and logs; ` +
          `wait for it to end or stop it, or pass --out DIR to run this one in another folder`,
      );
    }
    if (holder !== undefined) tookOverFrom = holder;
    rmSync(path, { force: true });
  }
  throw new CliError(`another run of this file took over the stale lock ${path} at the same moment: it runs in ${runDir}; wait for it to end, or pass --out DIR`);
}
