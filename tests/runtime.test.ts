/**
 * The suite runs on the Node.js users deploy: Lambda `nodejs22.x` and the `node:22-slim` image
 * (`.ci/run` installs Node 22 from the npm registry). Behaviour that differs between majors (Web Crypto,
 * fetch, the SDK's own engine requirements) is tested where it runs.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const major = (version: string) => Number(/(\d+)/.exec(version)![1]);

describe("runtime", () => {
  it("declares Node 22 everywhere: package.json's engines, the Lambda runtime and the image", () => {
    const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { engines: { node: string } };
    expect(pkg.engines.node).toBe(">=22");
    expect(readFileSync("jobs/Dockerfile", "utf8")).toMatch(/FROM node:22-slim/);
    expect(readFileSync("infra/trigger.ts", "utf8")).toMatch(/Runtime\.NodeJS22dX/);
  });

  // A developer's machine may have an older Node (the suite still runs there); CI must not.
  it.runIf(process.env.CI === "true")("runs on Node 22 or newer in CI", () => {
    expect(major(process.versions.node)).toBeGreaterThanOrEqual(22);
  });
});
