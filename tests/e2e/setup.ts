/**
 * What every end-to-end test file sets up: a temporary directory it builds what it tests into (the
 * orchestrator's bundle, the Lambda package, the program as the language host loads it), the local
 * AWS-compatible endpoint, and the environment a fresh process needs to reach that endpoint as AWS.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll } from "vitest";
import { type AwsStub, startAwsStub } from "./awsStub";
import { ROOT, runNode } from "./node";

export { awsEnv, ROOT } from "./node";

/**
 * Runs a script of the repository (`node <ROOT>/<script> …args`) and returns its stdout.
 * @throws when it exits with another code than 0, with its stderr
 */
export async function runScript(script: string, args: string[], opts: { env?: Record<string, string | undefined>; cwd?: string } = {}): Promise<string> {
  const out = await runNode([path.join(ROOT, script), ...args], { env: opts.env ?? process.env, cwd: opts.cwd });
  if (out.code !== 0) throw new Error(`${script} exited ${out.code}: ${out.stderr}`);
  return out.stdout;
}

/** What {@link setUpE2e} prepared, once the file's `beforeAll` has run. */
export interface E2e<T> {
  dir: string;
  stub: AwsStub;
  /** What `build` returned. */
  built: T;
}

/**
 * Registers the test file's `beforeAll` (a fresh temporary directory named `<prefix>…`, `build(dir)`,
 * then the stub) and `afterAll` (stub closed, directory removed). A later `beforeAll` of the file runs
 * after them, e.g. to make the stub know a job.
 */
export function setUpE2e<T>(prefix: string, build: (dir: string) => Promise<T>): E2e<T> {
  const e2e = {} as E2e<T>;
  beforeAll(async () => {
    e2e.dir = mkdtempSync(path.join(tmpdir(), prefix));
    e2e.built = await build(e2e.dir);
    e2e.stub = await startAwsStub();
  }, 120_000);
  afterAll(async () => {
    await e2e.stub?.close();
    if (e2e.dir) rmSync(e2e.dir, { recursive: true, force: true });
  });
  return e2e;
}
