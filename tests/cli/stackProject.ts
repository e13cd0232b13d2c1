/**
 * Throwaway Pulumi projects for the validate and plan tests: a directory under the OS temp dir holding a
 * `Pulumi.yaml` and one `Pulumi.<stack>.yaml` per stack, removed after the test file.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { stringify } from "yaml";
import { cliContext } from "./support";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A temp directory, removed after the test file. */
export function tempDir(prefix = "bp-cli-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** A project directory: `Pulumi.yaml` (project `name`) and `files` (name → text) beside it. */
export function projectFiles(files: Record<string, string>, name = "batch-pipeline"): string {
  const dir = tempDir("bp-project-");
  writeFileSync(join(dir, "Pulumi.yaml"), stringify({ name, runtime: "nodejs" }));
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return dir;
}

/** A project directory: `Pulumi.yaml` (project `name`) and one stack file per entry (its `config:` map, or raw text). */
export function project(stacks: Record<string, Record<string, unknown> | string>, name = "batch-pipeline"): string {
  return projectFiles(Object.fromEntries(Object.entries(stacks).map(([stack, config]) => [`Pulumi.${stack}.yaml`, typeof config === "string" ? config : stringify({ config })])), name);
}

/** A test context in `cwd` with no Pulumi CLI, whose AWS clients fail the test if a command creates one. */
export function offline(cwd: string, env: Record<string, string> = {}) {
  const ctx = cliContext({ cwd, env, pulumiOutputs: null });
  ctx.aws = () => {
    throw new Error("this command must not touch AWS");
  };
  return ctx;
}
