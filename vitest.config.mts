import { readdirSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

const ROOT = import.meta.dirname;
const TESTS = join(ROOT, "tests");

/**
 * `vi.mock` and friends replace modules for the whole module graph: such a file gets a fresh process.
 * None does today; a new one is isolated without being listed here.
 */
const MOCKS_MODULES = /\bvi\.(mock|doMock|unmock|resetModules)\s*\(/;
/**
 * Files that load the Pulumi program under runtime mocks: Pulumi's runtime state is process-global,
 * so each such file gets a fresh module graph of the project's sources (tests/support/stackWorker.ts);
 * `pulumi.runtime.setMocks` resets the runtime's per-stack state itself.
 */
const SETS_PULUMI_MOCKS = /\bsetupPulumiMocks\s*\(|\bsetMocks\s*\(/;
/** Helpers that only define what the patterns look for: importing them changes nothing, calling does. */
const DEFINES_ONLY = new Set([join(TESTS, "mocks.ts")]);

/** Every `.ts` file under `dir`, as absolute paths. */
function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => join(e.parentPath, e.name));
}

/** Every `.ts` file under tests/ and its text, read once for every pattern below. */
const TEST_TREE = tsFiles(TESTS);
const source = new Map(TEST_TREE.map((file) => [file, readFileSync(file, "utf8")]));
const read = (file: string) => source.get(file)!;

/**
 * The test files that, or whose helpers under tests/ (followed through relative imports), match
 * `pattern`. Found by reading the files, so a new test file is classified without being listed here.
 */
function testFilesMatching(pattern: RegExp): string[] {
  const matches = new Map<string, boolean>();
  const visit = (file: string): boolean => {
    if (matches.has(file)) return matches.get(file)!;
    matches.set(file, false); // cycles
    const text = read(file);
    let result = pattern.test(text);
    for (const [, spec] of text.matchAll(/(?:from|import|import\(|require\()\s*["'](\.{1,2}\/[^"']+)["']/g)) {
      if (result) break;
      const target = resolve(dirname(file), spec!).replace(/\.js$/, "");
      for (const candidate of [target, `${target}.ts`, join(target, "index.ts")]) {
        if (source.has(candidate) && !DEFINES_ONLY.has(candidate)) {
          result = visit(candidate);
          break;
        }
      }
    }
    matches.set(file, result);
    return result;
  };
  return TEST_TREE.filter((f) => f.endsWith(".test.ts") && visit(f)).map((f) => relative(ROOT, f));
}

const isolated = testFilesMatching(MOCKS_MODULES);
const stacks = testFilesMatching(SETS_PULUMI_MOCKS).filter((f) => !isolated.includes(f));

// Vitest's default (one worker per core but one) gives a 2-core machine a single worker, idle while a
// file waits on the processes it starts (the CLI, Lambda and job bundles, tsc): at least 2.
const maxWorkers = Math.max(2, availableParallelism() - 1);

/**
 * Vitest's order (longest first by the last run's durations, else largest first), except that the
 * shared project runs before the others and, within it, the end-to-end files first: they spend
 * seconds waiting on the processes they build and start, which other files fill, instead of being
 * left to run alone at the end. Stack files are short and fill the tail.
 */
class SlowFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const { shuffle, seed } = this.ctx.config.sequence;
    // `--sequence.shuffle`: a seeded random order of files, as Vitest's own sequencer would give.
    if (shuffle) return shuffled(files, seed);
    // Of the two files that run the one shared Lambda build (tests/e2e/lambdaBuild.ts), the container one starts
    // after the other end-to-end files, so its worker does not sit waiting while the inline one builds.
    const rank = (spec: TestSpecification) => {
      const file = relative(ROOT, spec.moduleId);
      if (spec.project.name !== "shared") return 2;
      if (file === "tests/e2e/trigger-lambda.test.ts") return 0.5;
      return file.startsWith("tests/e2e/") ? 0 : 1;
    };
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

/** `items` in a random order drawn from `seed` (Fisher-Yates over mulberry32). */
function shuffled<T>(items: T[], seed: number): T[] {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export default defineConfig({
  test: {
    // Pulumi mocks resolve outputs asynchronously; stack tests need more than the 5 s default.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    maxWorkers,
    sequence: { sequencer: SlowFirst },
    projects: [
      ...(isolated.length > 0
        ? [
            {
              extends: true as const,
              test: {
                name: "isolated",
                include: isolated,
                // Each of these files gets its own process and module graph, so module mocks never leak.
                isolate: true,
                pool: "forks" as const,
              },
            },
          ]
        : []),
      {
        extends: true,
        test: {
          name: "stacks",
          include: stacks,
          // They share a worker's packages (@pulumi/pulumi, @pulumi/aws, @pulumi/awsx, the AWS SDK:
          // loaded once per worker, not once per file) but not its project sources: stackWorker.ts
          // gives each file a fresh module graph of those, so the program is evaluated again with the
          // file's config and mocks.
          isolate: false,
          pool: "forks",
          setupFiles: ["tests/support/sharedWorker.ts", "tests/support/stackWorker.ts"],
        },
      },
      {
        extends: true,
        test: {
          name: "shared",
          include: ["tests/**/*.test.ts"],
          exclude: [...isolated, ...stacks],
          // The rest share a worker's module graph: @pulumi/pulumi, @pulumi/aws and the AWS SDK are
          // imported once per worker, not once per file. What these files stub, spy on or fake, they
          // restore in afterEach; tests/support/sharedWorker.ts restores the rest after each file.
          isolate: false,
          pool: "forks",
          setupFiles: ["tests/support/sharedWorker.ts"],
        },
      },
    ],
  },
});
