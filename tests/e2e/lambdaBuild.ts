/**
 * The trigger's Lambdas as `aws.lambda.CallbackFunction` would upload them (scripts/lambda-package.cjs: tsc, then
 * Pulumi's closure serializer), built ONCE for every end-to-end file that runs them: the container-mode factory
 * (infra/triggerHandler.ts `triggerHandlerFactory`, which tests/e2e/inlineLambdaProbe.ts re-exports) and the inline
 * ones, in one compile. Cached under the OS temp directory by a hash of every input of the build (the sources the
 * compile can reach, the configs, the packaging script, the lock file), so two test files running at once share
 * one build (the second waits for the first) and an unchanged tree is not built again (builds of other trees are
 * removed after an hour).
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { lastJsonLine, ROOT, runNode } from "./node";

/** The factories built: each Lambda in `<dir>/<factory>/__index.js`. */
export const LAMBDA_FACTORIES = ["triggerHandlerFactory", "inlineDefault", "inlineWide", "inlineFanIn"] as const;
export type LambdaFactory = (typeof LAMBDA_FACTORIES)[number];

/** What lambda-package.cjs prints for one factory. */
export interface LambdaSummary {
  indexBytes: number;
  packages: unknown[];
  zippedBytes: number;
}

export interface BuiltLambdas {
  /** Holds `<factory>/__index.js` and `node_modules` (the repository's: the runtime's SDK and the Powertools layer stand-in). */
  dir: string;
  summaries: Record<LambdaFactory, LambdaSummary>;
}

/** Rooms and files whose content decides the build's output. */
const INPUTS = ["contract", "functions", "batch", "workflow", "infra", "stack", "tests/e2e/inlineLambdaProbe.ts", "tsconfig.json", "tsconfig.lambda.json", "scripts/lambda-package.cjs", "package-lock.json"];

function hashOf(paths: readonly string[]): string {
  const hash = createHash("sha256");
  const visit = (rel: string) => {
    const abs = path.join(ROOT, rel);
    if (statSync(abs).isDirectory()) for (const entry of readdirSync(abs).sort()) visit(path.join(rel, entry));
    else {
      hash.update(`${rel}\0`);
      hash.update(readFileSync(abs));
    }
  };
  paths.forEach(visit);
  return hash.digest("hex").slice(0, 16);
}

/** A lock older than this is a crashed builder's (a build takes about 10 s): taken over well within the e2e files' 120 s setup timeout. */
const LOCK_STALE_MS = 60_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The built Lambdas: from the cache, or built now (or by the test file that holds the lock, waited for). */
export async function builtLambdas(): Promise<BuiltLambdas> {
  const cache = path.join(tmpdir(), "batch-pipeline-lambdas");
  const dir = path.join(cache, hashOf(INPUTS));
  const summaryFile = path.join(dir, "summary.json");
  const lock = `${dir}.lock`;
  mkdirSync(cache, { recursive: true });
  for (;;) {
    if (existsSync(summaryFile)) return { dir, summaries: JSON.parse(readFileSync(summaryFile, "utf8")) };
    try {
      mkdirSync(lock);
    } catch {
      // Another file is building it; a lock older than any build is a crashed builder's.
      if (Date.now() - statSync(lock, { throwIfNoEntry: false })!.mtimeMs > LOCK_STALE_MS) rmSync(lock, { recursive: true, force: true });
      await sleep(200);
      continue;
    }
    try {
      if (existsSync(summaryFile)) continue;
      const building = `${dir}.${process.pid}`;
      rmSync(building, { recursive: true, force: true });
      mkdirSync(building, { recursive: true });
      symlinkSync(path.join(ROOT, "node_modules"), path.join(building, "node_modules"), "dir");
      const out = await runNode([path.join(ROOT, "scripts", "lambda-package.cjs"), building, `tests/e2e/inlineLambdaProbe.ts#${LAMBDA_FACTORIES.join(",")}`], { env: process.env, cwd: ROOT });
      if (out.code !== 0) throw new Error(`lambda-package.cjs exited ${out.code}: ${out.stderr}`);
      writeFileSync(path.join(building, "summary.json"), JSON.stringify(lastJsonLine(out.stdout)));
      rmSync(dir, { recursive: true, force: true });
      renameSync(building, dir);
      // Builds of earlier trees: kept an hour (another checkout's tests may be running on theirs), then removed.
      for (const entry of readdirSync(cache)) {
        const other = path.join(cache, entry);
        if (other !== dir && Date.now() - statSync(other).mtimeMs > 3_600_000) rmSync(other, { recursive: true, force: true });
      }
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}
