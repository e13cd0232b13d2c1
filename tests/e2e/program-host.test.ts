/**
 * The program as `pulumi preview` loads it, not as vitest does: scripts/load-program.cjs registers
 * ts-node with the project's TypeScript and tsconfig exactly like the Pulumi Node language host
 * (type checking on) and requires index.ts in a fresh Node process, with the runtime mocks standing in
 * for the engine. The inline Lambda that process serializes is then loaded in another fresh process and
 * invoked with an S3 event against a local AWS-compatible endpoint.
 */
import { copyFileSync, mkdirSync, readFileSync, symlinkSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { invokeLambda, s3Event } from "./lambda";
import { lastJsonLine, runNode } from "./node";
import { ROOT, setUpE2e } from "./setup";

const e2e = setUpE2e("program-", async (dir) => {
  const out = await runNode([path.join(ROOT, "scripts", "load-program.cjs"), path.join(ROOT, "Pulumi.dev.yaml"), dir], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    cwd: ROOT,
  });
  const loaded: { stack: string; loadMs: number; resources: Record<string, number>; handlers: { file: string; bytes: number }[]; error?: string } = lastJsonLine(out.stdout);
  if (out.code !== 0) throw new Error(`load-program exited ${out.code}: ${loaded.error ?? out.stderr}`);
  return loaded;
});

describe("the program under the language host's ts-node", () => {
  it("type-checks and declares the dev stack: Spot and On-Demand, two queues, three job definitions, one Lambda", () => {
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
