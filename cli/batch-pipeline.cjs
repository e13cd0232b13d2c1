#!/usr/bin/env node
// `npx batch-pipeline …` from the repository (package.json "bin"): runs cli/main.ts through tsx, no build step.
require("tsx/cjs");
require("./main.ts");
