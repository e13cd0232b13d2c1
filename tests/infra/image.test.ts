/** The hash that tags a built image: every file of the folder, nothing outside it, never a link or a special file. */
import { symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { imageFolder as folder } from "../support/imageFolder";
import { sourceHash } from "../../infra/image";


describe("sourceHash", () => {
  it("changes when a file's content changes, and only then", () => {
    const dir = folder();
    const before = sourceHash(dir, ["."]);
    expect(sourceHash(dir, ["."])).toBe(before);
    writeFileSync(join(dir, "lib", "job.mjs"), "console.log(2)\n");
    expect(sourceHash(dir, ["."])).not.toBe(before);
  });

  it("refuses a symbolic link, which could lead out of the folder or loop", () => {
    const dir = folder();
    symlinkSync("/etc", join(dir, "escape"));
    expect(() => sourceHash(dir, ["."])).toThrow(/escape: an image's build folder holds only files and folders \(this is a symbolic link\)/);
  });

  it("refuses a special file such as a FIFO, which would never end", () => {
    const dir = folder();
    execFileSync("mkfifo", [join(dir, "pipe")]);
    expect(() => sourceHash(dir, ["."])).toThrow(/pipe: .* \(this is a special file\)/);
  });
});
