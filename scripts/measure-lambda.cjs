#!/usr/bin/env node
/**
 * `npm run measure:lambda`: the trigger Lambda's upload size and cold-start module load time.
 * Packages the Lambda as Pulumi would (scripts/lambda-package.cjs), then loads it in 7 fresh Node
 * processes (the factory runs at load: SDK clients and Powertools are required and built) and invokes
 * it once with an s3:TestEvent (no AWS call). Prints sizes and load times (min / median / max).
 */
const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lambda-measure-"));
try {
  const summary = JSON.parse(execFileSync(process.execPath, [path.join(__dirname, "lambda-package.cjs"), dir], { cwd: root }).toString().trim().split("\n").pop());
  // Stand-in for the runtime's SDK and the Powertools layer.
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
  const loads = [];
  for (let i = 0; i < 7; i++) {
    const out = execFileSync(process.execPath, [path.join(__dirname, "lambda-invoke.cjs"), dir], {
      cwd: dir,
      env,
      input: JSON.stringify({ Service: "Amazon S3", Event: "s3:TestEvent" }),
    }).toString();
    const result = JSON.parse(out.trim().split("\n").pop());
    if (!result.ok) throw new Error(`invocation failed: ${JSON.stringify(result.error)}`);
    loads.push(result.loadMs);
  }
  loads.sort((a, b) => a - b);
  const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
  console.log(`node ${process.version}, ${os.cpus().length} cores`);
  console.log(`serialized handler (__index.js): ${kb(summary.indexBytes)}`);
  console.log(`packages uploaded: ${summary.packages.length === 0 ? "none (SDK in the runtime, Powertools in its layer)" : summary.packages.map((p) => `${p.path} ${kb(p.zippedBytes)}`).join(", ")}`);
  console.log(`upload, zipped: ${kb(summary.zippedBytes)} (target < 50 KiB)`);
  console.log(`cold-start module load (require __index.js incl. factory), 7 fresh processes: min ${loads[0].toFixed(1)} ms, median ${loads[3].toFixed(1)} ms, max ${loads[6].toFixed(1)} ms`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
