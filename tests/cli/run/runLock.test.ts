/**
 * The lock of a run's folder (cli/run/runLock.ts): created exclusively with the pid, refused while its
 * pid lives, taken over once it does not, and removed only by its own run.
 */
import { existsSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CliError } from "../../../cli/app/errors";
import { LOCK_FILE, lockRunDir } from "../../../cli/run/runLock";
import { tempDir } from "../stackProject";

const NOW = Date.parse("2026-12-01T12:00:00Z");

describe("run folder lock", () => {
  it("creates the folder and the lock with the pid; a second taker is refused while that pid lives; release removes it", () => {
    const dir = join(tempDir("bp-lock-"), "run");
    const lock = lockRunDir(dir, { pid: 4242, alive: () => true });
    expect(readFileSync(join(dir, LOCK_FILE), "utf8")).toBe("4242\n");
    expect(() => lockRunDir(dir, { pid: 4343, alive: (pid) => pid === 4242 })).toThrow(CliError);
    expect(() => lockRunDir(dir, { pid: 4343, alive: (pid) => pid === 4242 })).toThrow(`another run of this file is running in ${dir} (pid 4242;`);
    lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    lockRunDir(dir, { pid: 4343 }).release();
  });

  it("takes over a lock whose pid is gone, saying whose; the old run's release leaves the new lock alone", () => {
    const dir = tempDir("bp-lock-");
    const old = lockRunDir(dir, { pid: 4242 });
    const lock = lockRunDir(dir, { pid: 4343, alive: () => false });
    expect(lock.tookOverFrom).toBe(4242);
    old.release();
    expect(readFileSync(join(dir, LOCK_FILE), "utf8")).toBe("4343\n");
    lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it("a lock without a pid yet is being written: held for a few seconds, stale after", () => {
    const dir = tempDir("bp-lock-");
    const path = join(dir, LOCK_FILE);
    writeFileSync(path, "");
    utimesSync(path, new Date(NOW - 1_000), new Date(NOW - 1_000));
    expect(() => lockRunDir(dir, { pid: 4343, now: () => NOW })).toThrow("(pid unknown, starting;");
    const lock = lockRunDir(dir, { pid: 4343, now: () => NOW + 10_000 });
    expect(lock.tookOverFrom).toBeUndefined();
    expect(readFileSync(path, "utf8")).toBe("4343\n");
  });
});
