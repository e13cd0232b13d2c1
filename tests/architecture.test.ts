/**
 * The rooms of docs/architecture.md and what each may import, checked on the sources: a new import across
 * a wall fails here, not in a review. Each room's rule is a list of rooms, no file excepted. Also: what is
 * serialized into the Lambda (contract/, functions/ and what it imports: the planner and the submitter)
 * imports no npm value and no Node builtin and keeps no Set or Map at module level, the stack's
 * data (stack/) nothing of Pulumi, and nothing shipped imports the operator CLI. Inside cli/: shared layers,
 * one folder per feature, commands as leaves, no import circle.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(__dirname, "..");

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(join(ROOT, path)).isDirectory()) return entry === "node_modules" ? [] : sources(path);
    return entry.endsWith(".ts") && !entry.endsWith(".d.ts") ? [path] : [];
  });
}

interface Import {
  file: string;
  /** A repository path (no extension) for a relative import, else the package or builtin. */
  target: string;
  local: boolean;
  typeOnly: boolean;
}

/** A file's code without its comments: comments name packages too ("`require(\"@aws-sdk/client-batch\").Batch`"). */
const codeOf = (file: string) => readFileSync(join(ROOT, file), "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|\s)\/\/.*$/gm, "$1");

/** Every `import … from "x"` and `require("x")` of a file; relative targets resolved to repository paths. */
function importsOf(file: string): Import[] {
  const text = codeOf(file);
  const found: Import[] = [];
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^;'"]*?from\s+"([^"]+)"/gm)) found.push({ file, target: m[3]!, local: false, typeOnly: m[2] !== undefined });
  for (const m of text.matchAll(/\brequire\("([^"]+)"\)/g)) found.push({ file, target: m[1]!, local: false, typeOnly: false });
  return found.map((i) =>
    i.target.startsWith(".") ? { ...i, local: true, target: normalize(relative(ROOT, join(ROOT, dirname(file), i.target))).replace(/\.ts$/, "").replace(/\/index$/, "") } : i,
  );
}

/** Room of a repository path: its first folder, or the file itself at the top. */
const roomOf = (path: string) => (path.includes("/") ? path.split("/")[0]! : path);

/** The rooms each room may import (itself included): a relative import's target is checked by its room alone. */
const RULES: Record<string, string[]> = {
  // index.ts validates the config (stack/), builds the stack from infra/ and exports the outputs in the shape
  // contract/outputs.ts gives them.
  "index.ts": ["contract", "stack", "infra"],
  contract: ["contract"],
  // The trigger's logic; with orchestrator.mode inline or auto it plans and submits with the orchestrator's own
  // planner (workflow/) and submitter (batch/), serialized by value with it (checked below).
  functions: ["contract", "workflow", "batch", "functions"],
  // The pure workflow (spec, planner, request limits, rendering) that the config, the orchestrator and the CLI share.
  workflow: ["contract", "workflow"],
  // The Batch calls (clients, list, describe, terminate, backoff, error classification) and the submission of a
  // plan (submitter, attempts) that the orchestrator, the inline trigger and the CLI share; it takes the plan's types from workflow/.
  batch: ["contract", "workflow", "batch"],
  // The stack as data, computed without Pulumi: the config's validation, names, Batch's and containers' rules, the
  // retry strategy, the stack model, the Lambda's packages, the project's stack files. What infra/, the CLI and
  // deploy/ share.
  stack: ["contract", "workflow", "stack"],
  // The orchestrator (the start job's image).
  jobs: ["contract", "workflow", "batch", "jobs"],
  // The Pulumi components render the stack's data; the trigger's Lambda is functions/ packaged by
  // infra/triggerHandler.ts.
  infra: ["contract", "workflow", "stack", "functions", "infra"],
  // The operator CLI validates, plans and runs the stack's data as the stack does (stack/). It also imports
  // functions/, for one module: redrive reads dead-lettered events with the trigger's own parser
  // (functions/objectEvents.ts), so it replays exactly what the trigger would accept. The parser stays in
  // functions/: it is the trigger's code, serialized into the Lambda with the error helpers of functions/; and
  // functions/ is plain TypeScript with injected clients that imports no npm value (checked below), so
  // importing it gives the CLI nothing of the Lambda's runtime.
  cli: ["contract", "workflow", "batch", "stack", "functions", "cli"],
  // The benchmarks (npm run bench, bench:burst) drive the real trigger and orchestrator through the tests' Batch semantics; never deployed.
  bench: ["contract", "workflow", "batch", "functions", "jobs", "bench", "tests"],
  // The policy pack runs in Pulumi's analyzer, beside any program: it reads resources by type token only.
  policy: ["policy"],
  // The deploy and preview roles' documents, scoped by the stack's own names, the Powertools parameter and the
  // image and secret ARN parsers, for the stacks the project's files list (stack/project.ts, as the CLI lists them).
  deploy: ["stack", "deploy"],
};

const ROOMS = ["contract", "workflow", "batch", "stack", "functions", "jobs", "bench", "infra", "cli", "policy", "deploy"];
const files = ["index.ts", ...ROOMS.flatMap((room) => sources(room))];
const relativeImports = files.flatMap(importsOf).filter((i) => i.local);

/** `entries` and every module they import for its values, theirs too (type-only imports are erased). */
function valueClosure(entries: readonly string[]): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const i of importsOf(file)) if (i.local && !i.typeOnly) visit([`${i.target}.ts`, `${i.target}/index.ts`].find((f) => files.includes(f))!);
  };
  entries.forEach(visit);
  return [...seen];
}

/**
 * What Pulumi serializes into the trigger Lambda by value: functions/ and every module it imports for its values,
 * the orchestrator's planner and submitter included (functions/inline.ts, `orchestrator.mode` inline or auto).
 */
const LAMBDA = valueClosure(files.filter((f) => roomOf(f) === "functions"));

describe("rooms import only what docs/architecture.md allows", () => {
  it("has a rule for every room", () => {
    expect(Object.keys(RULES).sort()).toEqual(["index.ts", ...ROOMS].sort());
  });

  it.each(["index.ts", ...ROOMS])("%s", (room) => {
    const allowed = RULES[room]!;
    const crossing = relativeImports
      .filter((i) => roomOf(i.file) === room)
      .filter((i) => !allowed.includes(roomOf(i.target)));
    expect(crossing.map((i) => `${i.file} imports ${i.target}`)).toEqual([]);
  });

  it("the Lambda's code (contract/, functions/ and what it imports: the planner and the submitter) imports npm packages and Node builtins for types only: it is serialized by value", () => {
    expect(LAMBDA).toEqual(expect.arrayContaining(["functions/inline.ts", "workflow/planner.ts", "workflow/width.ts", "batch/calls.ts", "batch/submitter.ts", "batch/submitJob.ts", "batch/attempts.ts", "contract/index.ts"]));
    // Not the spec's rules (zod) nor the clients (the SDK's values): the Lambda requires the SDK and is handed a validated workflow.
    expect(LAMBDA).not.toEqual(expect.arrayContaining(["workflow/spec.ts"]));
    expect(LAMBDA).not.toEqual(expect.arrayContaining(["batch/clients.ts"]));
    const values = [...new Set([...files.filter((f) => roomOf(f) === "contract"), ...LAMBDA])]
      .flatMap(importsOf)
      .filter((i) => !i.typeOnly && !i.local);
    expect(values.map((i) => `${i.file} imports ${i.target}`)).toEqual([]);
  });

  it("serialized code keeps no Set or Map at module level: Pulumi's closure serializer captures one as a plain object", () => {
    const serialized = [...new Set([...files.filter((f) => roomOf(f) === "contract"), ...LAMBDA])];
    const collections = serialized.flatMap((file) =>
      [...codeOf(file).matchAll(/^(?:export\s+)?(?:const|let|var)\s+(\w+)[^=\n]*=\s*new\s+(?:Weak)?(?:Set|Map)\b/gm)].map((m) => `${file}: ${m[1]}`),
    );
    expect(collections).toEqual([]);
  });

  it("the policy pack imports no provider SDK: it must run beside any program", () => {
    const sdks = files.filter((f) => roomOf(f) === "policy").flatMap(importsOf).filter((i) => !i.local && !i.typeOnly && /^@pulumi\/(aws|awsx|pulumi)\b/.test(i.target));
    expect(sdks.map((i) => `${i.file} imports ${i.target}`)).toEqual([]);
  });

  it("the stack's data (stack/) imports nothing of Pulumi, types included, nor do the rooms it may import: the CLI and deploy/ compute it without Pulumi", () => {
    const pure = files.filter((f) => RULES.stack!.includes(roomOf(f)));
    const pulumi = [
      ...pure.flatMap(importsOf).filter((i) => !i.local && /^@pulumi\//.test(i.target)),
      // `import("@pulumi/…")` in a type, which importsOf does not list.
      ...pure.flatMap((file) => [...codeOf(file).matchAll(/\bimport\(\s*"(@pulumi\/[^"]*)"/g)].map((m) => ({ file, target: m[1]! }))),
    ];
    expect(pure).toEqual(expect.arrayContaining(["stack/model.ts", "stack/config/index.ts", "stack/project.ts"]));
    expect(pulumi.map((i) => `${i.file} imports ${i.target}`)).toEqual([]);
  });

  it("nothing that is deployed (index.ts, infra/, stack/, functions/, jobs/, workflow/, batch/) imports the operator CLI, the benchmarks or the tests", () => {
    // Nor does deploy/ (a generator run on a workstation): it reads the stacks with stack/project.ts.
    const intoCli = files.filter((f) => !["cli", "bench"].includes(roomOf(f))).flatMap(importsOf).filter((i) => i.local && ["cli", "bench", "tests"].includes(roomOf(i.target)));
    expect(intoCli.map((i) => `${i.file} imports ${i.target}`)).toEqual([]);
  });
});

describe("cli/'s floor plan (docs/architecture.md): shared layers, one folder per feature, commands as leaves", () => {
  const cliImports = relativeImports.filter((i) => roomOf(i.file) === "cli" && roomOf(i.target) === "cli");
  /** `cli/<folder>/…` → its folder; "" for the files at cli/'s top (the process entry). */
  const folderOf = (path: string) => (path.split("/").length > 2 ? path.split("/")[1]! : "");
  const isCommand = (path: string) => /^cli\/[^/]+\/command$/.test(path);
  /** The shared layers and what each may import, lowest first; every other folder is a feature. */
  const LAYERS: Record<string, string[]> = { app: ["app"], stack: ["app", "stack"], runModel: ["app", "stack", "runModel"] };
  const folders = readdirSync(join(ROOT, "cli")).filter((entry) => statSync(join(ROOT, "cli", entry)).isDirectory());
  const features = folders.filter((f) => !(f in LAYERS));

  it("has the shared layers and features", () => {
    expect(folders).toEqual(expect.arrayContaining(Object.keys(LAYERS)));
    expect(features).toEqual(expect.arrayContaining(["validate", "plan", "run", "submit", "runs", "status", "watch", "logs", "cancel", "redrive"]));
  });

  it.each(features)("%s/ has its command.ts, the module cli/app/program.ts registers", (feature) => {
    expect(readdirSync(join(ROOT, "cli", feature))).toContain("command.ts");
  });

  it("only cli/app/program.ts imports a command module (cli/<feature>/command.ts)", () => {
    const into = cliImports.filter((i) => isCommand(i.target) && i.file !== "cli/app/program.ts");
    expect(into.map((i) => `${i.file} imports ${i.target}`)).toEqual([]);
  });

  it("app/, stack/ and runModel/ import only their own layer and those below it (the program also imports the commands it registers)", () => {
    const crossing = cliImports
      .filter((i) => folderOf(i.file) in LAYERS)
      .filter((i) => !LAYERS[folderOf(i.file)]!.includes(folderOf(i.target)) && !(i.file === "cli/app/program.ts" && isCommand(i.target)));
    expect(crossing.map((i) => `${i.file} imports ${i.target}`)).toEqual([]);
  });

  it("a feature imports the shared layers and its own folder, never another feature", () => {
    const crossing = cliImports.filter((i) => features.includes(folderOf(i.file)) && !(folderOf(i.target) in LAYERS) && folderOf(i.target) !== folderOf(i.file));
    expect(crossing.map((i) => `${i.file} imports ${i.target}`)).toEqual([]);
  });

  it("has no import circle", () => {
    const graph = new Map<string, string[]>();
    for (const i of cliImports) graph.set(i.file.replace(/\.ts$/, ""), [...(graph.get(i.file.replace(/\.ts$/, "")) ?? []), i.target]);
    // Depth-first: a file met again while still on the path closes a circle.
    const state = new Map<string, "open" | "done">();
    const circles: string[] = [];
    const visit = (node: string, path: string[]) => {
      if (state.get(node) === "done") return;
      if (state.get(node) === "open") return void circles.push([...path.slice(path.indexOf(node)), node].join(" → "));
      state.set(node, "open");
      for (const next of graph.get(node) ?? []) visit(next, [...path, node]);
      state.set(node, "done");
    };
    for (const node of graph.keys()) visit(node, []);
    expect(circles).toEqual([]);
  });
});

describe("examples/ (one folder per job image, docs/writing-jobs.md)", () => {
  const folders = readdirSync(join(ROOT, "examples")).filter((entry) => statSync(join(ROOT, "examples", entry)).isDirectory());
  const scripts = (folder: string) => readdirSync(join(ROOT, "examples", folder)).filter((f) => /\.(mjs|cjs|js)$/.test(f));

  it("has the csv-stats example", () => {
    expect(folders).toContain("csv-stats");
  });

  it.each(folders)("%s imports only its own files, Node builtins and the packages its package.json lists: its image holds that folder only", (folder) => {
    const dir = join(ROOT, "examples", folder);
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
    const dependencies = Object.keys(pkg.dependencies ?? {});
    const outside = scripts(folder).flatMap((file) => {
      const text = readFileSync(join(dir, file), "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|\s)\/\/.*$/gm, "$1");
      const targets = [...text.matchAll(/^\s*(?:import|export)\s[^;'"]*?from\s+"([^"]+)"|\bimport\("([^"]+)"\)|\brequire\("([^"]+)"\)/gm)].map((m) => (m[1] ?? m[2] ?? m[3])!);
      return targets
        .filter((t) => {
          if (t.startsWith(".")) return !normalize(join(dir, t)).startsWith(`${dir}/`);
          if (t.startsWith("node:")) return false;
          const name = t.startsWith("@") ? t.split("/").slice(0, 2).join("/") : t.split("/")[0]!;
          return !dependencies.includes(name);
        })
        .map((t) => `${file} imports ${t}`);
    });
    expect(outside).toEqual([]);
  });
});
