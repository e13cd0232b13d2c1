// Bundles the start job's CLI into one file, the way the Dockerfile does: `node jobs/build.mjs`.
// The AWS SDK is bundled too: the image is not Lambda, there is no SDK to borrow at runtime.
import { build } from "esbuild";
import { statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outfile = process.env.ORCHESTRATOR_OUTFILE ?? join(root, "dist", "orchestrator.js");

await build({
  entryPoints: [join(root, "jobs", "main.ts")],
  outfile,
  bundle: true,
  platform: "node",
  target: "node22",
  format: "cjs",
  // Identifiers are kept so stack traces in CloudWatch stay readable without shipping a source map.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: "none",
  logLevel: "warning",
});

console.log(`${outfile}: ${(statSync(outfile).size / 1024).toFixed(1)} KiB`);
