/** The real `batch-pipeline` bin in a fresh Node process: what a user's shell sees. */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO } from "./support";

const BIN = join(REPO, "cli", "batch-pipeline.cjs");

describe("batch-pipeline bin", () => {
  it("given a reader that goes away (`batch-pipeline … | head`), exits quietly instead of crashing on EPIPE", async () => {
    const child = spawn(process.execPath, [BIN, "plan", "--format", "json"], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(stderr).toBe("");
    expect(code).toBe(0);
  });

  it("given --help, lists every command and exits 0", async () => {
    const child = spawn(process.execPath, [BIN, "--help"], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code).toBe(0);
    for (const command of ["validate", "plan", "submit", "runs", "status", "watch", "logs", "cancel", "redrive"]) expect(stdout).toMatch(new RegExp(`^  ${command} `, "m"));
  });
});
