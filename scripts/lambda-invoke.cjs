#!/usr/bin/env node
/**
 * Loads a serialized Lambda (<dir>/__index.js) in this fresh process, the way the Lambda runtime
 * does, and invokes its `handler` with the JSON event on stdin. Prints one JSON line:
 * { ok, result | error, loadMs, invokeMs }. Exit code 0 either way; the caller reads `ok`.
 *
 *   node scripts/lambda-invoke.cjs <dir> [<remainingMs>] < event.json
 *
 * The context's `getRemainingTimeInMillis()` counts down from <remainingMs> (default 30,000) from the invocation's start.
 */
const path = require("node:path");

async function main() {
  const dir = path.resolve(process.argv[2]);
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  const event = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  const t0 = process.hrtime.bigint();
  const mod = require(path.join(dir, "__index.js"));
  const t1 = process.hrtime.bigint();
  const remainingMs = Number(process.argv[3] ?? 30_000);
  const deadline = Date.now() + remainingMs;
  const context = {
    functionName: "trigger",
    awsRequestId: "req-1",
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  let out;
  try {
    const result = await mod.handler(event, context);
    out = { ok: true, result };
  } catch (err) {
    out = { ok: false, error: { name: err.name, message: err.message } };
  }
  const t2 = process.hrtime.bigint();
  out.loadMs = Number(t1 - t0) / 1e6;
  out.invokeMs = Number(t2 - t1) / 1e6;
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
