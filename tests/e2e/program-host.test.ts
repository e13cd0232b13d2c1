/**
 * The program as `pulumi preview` loads it, not as vitest does: scripts/load-program.cjs registers
 * ts-node with the project's TypeScript and tsconfig exactly like the Pulumi Node language host and
 * requires index.ts in a fresh Node process, with the runtime mocks standing in for the engine. The
 * inline Lambda that process serializes is then loaded in another fresh process and invoked with an S3
 * event against a local AWS-compatible endpoint.
 *
 * The load runs with PULUMI_NODEJS_TRANSPILE_ONLY=true (a mode of the host itself): the host's type
 * check is `tsc` over the same files with the same options, which `npm run typecheck` already runs
 * (CI runs it before `npm test`); checking it twice cost the suite 15 s of CPU. The last test proves the
 * two checks are the same: the options the host would merge, and the files it loaded.
 */
import { copyFileSync, mkdirSync, readFileSync, symlinkSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { invokeLambda, s3Event } from "./lambda";
import { lastJsonLine, runNode } from "./node";
import { ROOT, setUpE2e } from "./setup";

const e2e = setUpE2e("program-", async (dir) => {
  const out = await runNode([path.join(ROOT, "scripts", "load-program.cjs"), path.join(ROOT, "Pulumi.dev.yaml"), dir], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PULUMI_NODEJS_TRANSPILE_ONLY: "true" },
    cwd: ROOT,
  });
  const loaded: {
    stack: string;
    loadMs: number;
    typeChecked: boolean;
    resources: Record<string, number>;
    handlers: { file: string; bytes: number }[];
    sources: string[];
    error?: string;
  } = lastJsonLine(out.stdout);
  if (out.code !== 0) throw new Error(`load-program exited ${out.code}: ${loaded.error ?? out.stderr}`);
  return loaded;
});

describe("the program under the language host's ts-node", () => {
  it("declares the dev stack: Spot and On-Demand, two queues, three job definitions, one Lambda", () => {
    expect(e2e.built.stack).toBe("dev");
    expect(e2e.built.resources).toMatchObject({
      "aws:batch/computeEnvironment:ComputeEnvironment": 2,
      "aws:batch/jobQueue:JobQueue": 2,
      "aws:batch/jobDefinition:JobDefinition": 3,
      "aws:lambda/function:Function": 1,
      "aws:s3/bucketNotification:BucketNotification": 1,
    });
    expect(e2e.built.handlers).toHaveLength(1);
  });

  it("serializes a trigger Lambda that loads only what the runtime and the Powertools layer provide", () => {
    const code = readFileSync(e2e.built.handlers[0]!.file, "utf8");
    const required = [...new Set([...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]!))].sort();
    expect(required.length).toBeGreaterThan(0);
    for (const name of required) expect(name).toMatch(/^(node:[a-z_/]+|[a-z_]+|@aws-sdk\/[a-z0-9-]+|@aws-lambda-powertools\/[a-z0-9-/]+)$/);
    expect(code).not.toMatch(/__vi_import|__vite_ssr/);
    // tsconfig.json's removeComments reaches the host's compiler: the upload carries no source comments
    // (9 % of its zipped size when it did), only the serializer's own /*name*/ markers.
    expect(code).not.toMatch(/^\s*\/\/|\/\*\*/m);
    expect([...code.matchAll(/\/\*(.*?)\*\//g)].map((m) => m[1]).filter((c) => !/^\w+$/.test(c!))).toEqual([]);
  });

  it("serializes a trigger Lambda that submits the start job for an S3 event", async () => {
    const lambdaDir = path.join(e2e.dir, "lambda");
    mkdirSync(lambdaDir);
    copyFileSync(e2e.built.handlers[0]!.file, path.join(lambdaDir, "__index.js"));
    // Stand-in for the Lambda runtime's SDK and the Powertools layer.
    symlinkSync(path.join(ROOT, "node_modules"), path.join(lambdaDir, "node_modules"), "dir");
    const result = await invokeLambda(lambdaDir, s3Event({ key: "incoming/a+b.csv", versionId: "v1", size: 5 }), e2e.stub.url);
    expect(result).toMatchObject({ ok: true });
    expect(e2e.stub.submitted.map((s) => s.jobDefinition)).toEqual(["start-def"]);
    expect(e2e.stub.submitted[0].containerOverrides.environment).toEqual(
      expect.arrayContaining([{ name: "PIPELINE_INPUT_KEY", value: "incoming/a b.csv" }]),
    );
  });
});

describe("the language host's type check is `npm run typecheck`", () => {
  it("checks every file the host loaded, with the options the host would use, before `npm test` in CI", () => {
    expect(e2e.built.typeChecked).toBe(false);
    // run.js registers ts-node with { target: "ES2020", module: "nodenext", moduleResolution: "nodenext",
    // sourceMap: "true", ...tsconfig's compilerOptions }: tsconfig setting each of them leaves the host
    // nothing of its own, and no noCheck means the host type-checks (unless PULUMI_NODEJS_TRANSPILE_ONLY).
    const tsutils = require("@pulumi/pulumi/tsutils") as { loadTypeScriptCompilerOptions(file: string): Record<string, unknown> };
    const options = tsutils.loadTypeScriptCompilerOptions(path.join(ROOT, "tsconfig.json"));
    for (const key of ["target", "module", "moduleResolution", "sourceMap"]) expect(options, key).toHaveProperty(key);
    expect(options.noCheck).toBeUndefined();

    const ts = require("typescript") as typeof import("typescript");
    const config = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, "tsconfig.json"), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(String(d.messageText)); } })!;
    const checked = new Set(config.fileNames.map((f) => path.relative(ROOT, f)));
    expect(e2e.built.sources).toContain("index.ts");
    expect(e2e.built.sources.filter((f) => !checked.has(f))).toEqual([]);

    const scripts = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts;
    expect(scripts.typecheck).toBe("tsc --noEmit -p tsconfig.json");
    // The commands .ci/run runs (comments aside): the type check, then the tests.
    const steps = readFileSync(path.join(ROOT, ".ci", "run"), "utf8").split("\n").filter((l) => /^npm (run typecheck|test)\b/.test(l));
    expect(steps.map((l) => l.split(" ").slice(0, 3).join(" "))).toEqual(["npm run typecheck", "npm test --"]);
  });
});
