/** The real `batch-pipeline` bin in a fresh Node process: what a user's shell sees. */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO } from "../support";

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

  it.each(["--version", "-V"])("given %s, prints package.json's version and exits 0", async (flag) => {
    const { version } = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string };
    const child = spawn(process.execPath, [BIN, flag], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
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
