#!/usr/bin/env node
/**
 * Loads the Pulumi program the way the Pulumi Node language host does for `pulumi preview`/`up`
 * (@pulumi/pulumi cmd/run/run.js): ts-node registered with the project's own TypeScript and
 * tsconfig.json, type checking on, `index.ts` required from the project directory. Pulumi's engine is
 * replaced by the project's runtime mocks (tests/mocks.ts) and a stack's config file.
 *
 *   node scripts/load-program.cjs [Pulumi.<stack>.yaml] [outDir]
 *
 * Type checking is on unless PULUMI_NODEJS_TRANSPILE_ONLY=true or tsconfig.json sets noCheck, as in
 * run.js. Writes each inline Lambda's serialized code to <outDir>/__index<i>.js (default
 * bin/program-lambda) and prints one JSON line: { stack, loadMs, typeChecked, resources: { <type>:
 * count }, handlers: [{ file, bytes }], sources: [project .ts files loaded, relative] }, or { error }
 * and exits 1. Plain CommonJS on purpose: it must run under plain Node, never through vitest.
 */
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");

async function main() {
  process.chdir(root);
  const started = Date.now();
  // What run.js does when PULUMI_NODEJS_TYPESCRIPT=true (Pulumi.yaml: runtime.options.typescript: true).
  const tsutils = require("@pulumi/pulumi/tsutils");
  const compilerOptions = tsutils.loadTypeScriptCompilerOptions("tsconfig.json");
  const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
  // run.js: PULUMI_NODEJS_TRANSPILE_ONLY decides when set, else tsconfig's noCheck.
  const transpileOnlyEnv = process.env.PULUMI_NODEJS_TRANSPILE_ONLY;
  const transpileOnly = transpileOnlyEnv ? transpileOnlyEnv === "true" : compilerOptions.noCheck;
  require(tsnodeRequire).register({
    compiler: typescriptRequire,
    transpileOnly,
    project: "tsconfig.json",
    skipProject: false,
    compilerOptions: { target: "ES2020", module: "nodenext", moduleResolution: "nodenext", sourceMap: "true", ...compilerOptions },
  });

  const stackFile = process.argv[2] ?? "Pulumi.dev.yaml";
  const stack = path.basename(stackFile).replace(/^Pulumi\.|\.yaml$/g, "");
  const { parse } = require("yaml");
  const doc = parse(fs.readFileSync(stackFile, "utf8"));
  const config = Object.fromEntries(
    Object.entries(doc.config ?? {})
      .filter(([k]) => k.startsWith("batch-pipeline:"))
      .map(([k, v]) => [k.slice("batch-pipeline:".length), v]),
  );
  // Keep what Pulumi's closure serializer produces for inline Lambdas: under mocks the code archive's
  // contents are not recorded.
  const pulumi = require("@pulumi/pulumi");
  const closures = [];
  const serialize = pulumi.runtime.serializeFunction;
  pulumi.runtime.serializeFunction = (...args) => {
    const closure = serialize(...args);
    closures.push(closure);
    return closure;
  };
  const mocks = require(path.join(root, "tests", "mocks.ts"));
  const recorded = await mocks.setupPulumiMocks(config, { stack });
  require(path.join(root, require(path.join(root, "package.json")).main));
  await mocks.settle();

  const resources = {};
  for (const r of recorded.resources) resources[r.type] = (resources[r.type] ?? 0) + 1;
  // The inline Lambdas' code, as the closure serializer produced it in this very process.
  const handlers = (await Promise.all(closures)).map((c) => c.text);
  const sources = Object.keys(require.cache)
    .filter((f) => f.endsWith(".ts") && !f.includes(`${path.sep}node_modules${path.sep}`))
    .map((f) => path.relative(root, f))
    .sort();
  const out = path.resolve(process.argv[3] ?? path.join(root, "bin", "program-lambda"));
  fs.mkdirSync(out, { recursive: true });
  handlers.forEach((text, i) => fs.writeFileSync(path.join(out, `__index${i}.js`), text));
  process.stdout.write(
    `${JSON.stringify({ stack, loadMs: Date.now() - started, typeChecked: !transpileOnly, resources, handlers: handlers.map((text, i) => ({ file: path.join(out, `__index${i}.js`), bytes: Buffer.byteLength(text) })), sources })}\n`,
  );
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stdout.write(`${JSON.stringify({ error: String(err && err.stack ? err.stack : err) })}\n`);
    process.exit(1);
  },
);
