#!/usr/bin/env node
/**
 * Produces the inline Lambda's code exactly as `aws.lambda.CallbackFunction` would: compiles
 * infra/triggerHandler.ts with tsc, serializes `triggerHandlerFactory` with Pulumi's closure
 * serializer, and lists the node_modules folders Pulumi would upload (computeCodePaths with the same
 * exclusions as infra/trigger.ts).
 *
 *   node scripts/lambda-package.cjs <outDir> [<module.ts>#<factory>]
 *
 * With a second argument, serializes that module's factory instead (a repository path, compiled with
 * tsconfig.lambda.json's options): how a test proves other code serializable before a Lambda runs it.
 * Writes <outDir>/__index.js and prints a JSON summary: { indexBytes, packages: [{ path, files, bytes, zippedBytes }], zippedBytes }.
 *
 *   node scripts/lambda-package.cjs <outDir> <module.ts>#<factory>,<factory>…
 *
 * Several factories of one module (one compile): each Lambda in <outDir>/<factory>/__index.js, and the summary
 * is { <factory>: summary, … }.
 * Plain CommonJS on purpose: it must run under plain Node, never through vitest.
 */
const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");
const zlib = require("node:zlib");

const root = path.resolve(__dirname, "..");

/** Zip size of a set of files: deflated data plus local header, central directory entry and name per file. */
function zippedSize(files) {
  let total = 22; // end of central directory
  for (const { name, data } of files) {
    const deflated = zlib.deflateRawSync(data, { level: 9 }).length;
    total += 30 + name.length + Math.min(deflated, data.length) + 46 + name.length;
  }
  return total;
}

function filesUnder(dir, prefix) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const abs = path.join(dir, entry.name);
    const rel = `${prefix}/${entry.name}`;
    if (entry.isDirectory()) out.push(...filesUnder(abs, rel));
    else if (entry.isFile()) out.push({ name: rel, data: fs.readFileSync(abs) });
  }
  return out;
}

async function main() {
  const outDir = path.resolve(process.argv[2] ?? path.join(root, "bin", "lambda"));
  const [entry, factoryList] = (process.argv[3] ?? "infra/triggerHandler.ts#triggerHandlerFactory").split("#");
  const factoryNames = factoryList.split(",");
  const compiled = path.join(outDir, "compiled");
  fs.mkdirSync(outDir, { recursive: true });
  // tsconfig.lambda.json's options and files, plus the entry; type roots found from here, as from the root.
  const project = path.join(outDir, "tsconfig.json");
  const config = { extends: path.join(root, "tsconfig.lambda.json"), compilerOptions: { typeRoots: [path.join(root, "node_modules", "@types")] }, files: [path.join(root, entry)] };
  fs.writeFileSync(project, JSON.stringify(config));
  execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", project, "--outDir", compiled], {
    cwd: root,
    stdio: "inherit",
  });
  // The language host runs the program from the project directory; so do we (codePaths reads ./package.json).
  process.chdir(root);
  const pulumi = require("@pulumi/pulumi");
  const compiledEntry = require(path.join(compiled, entry.replace(/\.ts$/, ".js")));
  const { lambdaExcludedPackages } = require(path.join(compiled, "stack", "lambdaPackages.js"));
  const codePaths = await pulumi.runtime.computeCodePaths({
    extraExcludePackages: lambdaExcludedPackages(require(path.join(root, "package.json")).dependencies),
  });
  const summaries = {};
  for (const factoryName of factoryNames) {
    const factory = compiledEntry[factoryName];
    if (typeof factory !== "function") throw new Error(`${entry} exports no function ${factoryName}`);
    const closure = await pulumi.runtime.serializeFunction(factory, {
      serialize: () => true,
      exportName: "handler",
      isFactoryFunction: true,
      allowSecrets: false,
    });
    const lambdaDir = factoryNames.length > 1 ? path.join(outDir, factoryName) : outDir;
    fs.mkdirSync(lambdaDir, { recursive: true });
    fs.writeFileSync(path.join(lambdaDir, "__index.js"), closure.text);

    const packages = [];
    const allFiles = [{ name: "__index.js", data: Buffer.from(closure.text) }];
    for (const [archivePath] of codePaths) {
      const files = filesUnder(path.join(root, archivePath), archivePath);
      allFiles.push(...files);
      packages.push({
        path: archivePath,
        files: files.length,
        bytes: files.reduce((n, f) => n + f.data.length, 0),
        zippedBytes: zippedSize(files),
      });
    }
    summaries[factoryName] = { indexBytes: Buffer.byteLength(closure.text), packages, zippedBytes: zippedSize(allFiles) };
  }
  const summary = factoryNames.length > 1 ? summaries : summaries[factoryNames[0]];
  fs.writeFileSync(path.join(outDir, "summary.json"), JSON.stringify(summary, null, 2));
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
