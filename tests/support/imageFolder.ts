/** A fresh build folder on disk for the image and build-folder tests: a Dockerfile and one job file under lib/. */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function imageFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), "bp-image-"));
  mkdirSync(join(dir, "lib"));
  writeFileSync(join(dir, "Dockerfile"), "FROM scratch\n");
  writeFileSync(join(dir, "lib", "job.mjs"), "console.log(1)\n");
  return dir;
}
