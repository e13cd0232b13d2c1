#!/usr/bin/env node
/**
 * `npm run measure:lambda`: the trigger Lambda's upload size and cold-start module load time, for each
 * `orchestrator.mode`'s factory: container (`triggerHandlerFactory`, infra/triggerHandler.ts) and inline or
 * auto (`inlineTriggerHandlerFactory(workflow)`, here with the default workflow: tests/e2e/inlineLambdaProbe.ts
 * `inlineDefault`, the zero-argument factory infra/trigger.ts would hand CallbackFunction).
 * Packages each as Pulumi would (scripts/lambda-package.cjs), then loads it in 7 fresh Node processes (the
 * factory runs at load: SDK clients and Powertools are required and built) and invokes it once with an
 * s3:TestEvent (no AWS call). Prints sizes and load times (min / median / max).
 */
const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const RUNS = 7;
const LAMBDAS = [
  { name: "container", factory: "infra/triggerHandler.ts#triggerHandlerFactory", env: {}, zipTargetKiB: 50, loadTargetMs: undefined },
  {
    name: "inline",
    factory: "tests/e2e/inlineLambdaProbe.ts#inlineDefault",
    env: { ORCHESTRATOR_MODE: "inline", PIPELINE_PROCESS_QUEUE: "low", PIPELINE_JOB_DEFINITIONS: '{"process":"process-def","barrier":"barrier-def"}', PIPELINE_OUTPUT_ROOT: "results/" },
    zipTargetKiB: 100,
    loadTargetMs: 150,
  },
];

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lambda-measure-"));
try {
  // Stand-in for the runtime's SDK and the Powertools layer (and what the probe's compile needs).
  fs.symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"), "dir");
  const env = {
    PATH: process.env.PATH,
    AWS_REGION: "eu-west-1",
    START_QUEUE: "q",
    START_JOB_DEFINITION: "d",
    IDEMPOTENCY_TABLE: "t",
    IDEMPOTENCY_TTL_SECONDS: "604800",
    PIPELINE_STACK: "batch-pipeline-dev-628b23",
    START_JOB_TAGS: "{\"project\":\"batch-pipeline\"}",
    TRIGGER_BUCKET: "batch-pipeline-dev-628b23-input",
    TRIGGER_PREFIX: "incoming/",
  };
  const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
  console.log(`node ${process.version}, ${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(1)}`);
  const rows = [];
  for (const lambda of LAMBDAS) {
    const out = path.join(dir, lambda.name);
    const summary = JSON.parse(execFileSync(process.execPath, [path.join(__dirname, "lambda-package.cjs"), out, lambda.factory], { cwd: root }).toString().trim().split("\n").pop());
    const loads = [];
    for (let i = 0; i < RUNS; i++) {
      const result = JSON.parse(
        execFileSync(process.execPath, [path.join(__dirname, "lambda-invoke.cjs"), out], { cwd: dir, env: { ...env, ...lambda.env }, input: JSON.stringify({ Service: "Amazon S3", Event: "s3:TestEvent" }) })
          .toString()
          .trim()
          .split("\n")
          .pop(),
      );
      if (!result.ok) throw new Error(`${lambda.name}: invocation failed: ${JSON.stringify(result.error)}`);
      loads.push(result.loadMs);
    }
    loads.sort((a, b) => a - b);
    const mid = loads[Math.floor(RUNS / 2)];
    console.log(`\n${lambda.name} (${lambda.factory})`);
    console.log(`  serialized handler (__index.js): ${kb(summary.indexBytes)}`);
    console.log(`  packages uploaded: ${summary.packages.length === 0 ? "none (SDK in the runtime, Powertools in its layer)" : summary.packages.map((p) => `${p.path} ${kb(p.zippedBytes)}`).join(", ")}`);
    console.log(`  upload, zipped: ${kb(summary.zippedBytes)} (target < ${lambda.zipTargetKiB} KiB)`);
    console.log(`  cold-start module load (require __index.js incl. factory), ${RUNS} fresh processes: min ${loads[0].toFixed(1)} ms, median ${mid.toFixed(1)} ms, max ${loads[RUNS - 1].toFixed(1)} ms${lambda.loadTargetMs ? ` (target < ${lambda.loadTargetMs} ms)` : ""}`);
    rows.push(`| ${lambda.name} | ${kb(summary.indexBytes)} | ${kb(summary.zippedBytes)} | ${mid.toFixed(0)} ms (${loads[0].toFixed(0)}–${loads[RUNS - 1].toFixed(0)}) |`);
  }
  console.log(`\n| factory | __index.js | upload, zipped | module load, median (min–max) |\n|---|---|---|---|\n${rows.join("\n")}`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
