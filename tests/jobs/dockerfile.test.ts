/**
 * No Docker engine runs here, so the image is checked statically: the Dockerfile builds with the same
 * script the e2e test runs (tests/e2e/orchestrator-bundle.test.ts), from files that exist and that its
 * .dockerignore lets through, onto a Node 22 base, as a non-root user, with no region baked in.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { describe, expect, it } from "vitest";
import { IMAGE_SOURCES } from "../../infra/orchestrator";

const dockerfile = readFileSync("jobs/Dockerfile", "utf8");
const instructions = dockerfile
  .split("\n")
  .filter((l) => l.trim() !== "" && !l.trim().startsWith("#"))
  .map((l) => l.trim());
const stages = instructions.filter((l) => l.startsWith("FROM "));
const ignore = readFileSync("jobs/Dockerfile.dockerignore", "utf8")
  .split("\n")
  .filter((l) => l.trim() !== "" && !l.startsWith("#"));

/** The folders the orchestrator's entry (jobs/main.ts) reaches through its relative imports: what the image must copy. */
const ORCHESTRATOR_ROOMS = (() => {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/^\s*(?:import|export)\s[^;'"]*?from\s+"(\.[^"]+)"/gm)) {
      const target = normalize(join(dirname(file), m[1]!));
      visit(existsSync(`${target}.ts`) ? `${target}.ts` : join(target, "index.ts"));
    }
  };
  visit("jobs/main.ts");
  return [...new Set([...seen].map((f) => f.split("/")[0]!))].sort();
})();

describe("jobs/Dockerfile", () => {
  it("is multi-stage on Node 22 images", () => {
    expect(stages).toHaveLength(2);
    for (const from of stages) expect(from).toMatch(/^FROM node:22(-slim|-alpine)?(@sha256:[0-9a-f]{64})? AS \w+$/);
  });

  it("bundles with jobs/build.mjs, the script the e2e test runs", () => {
    expect(instructions).toContain("RUN node jobs/build.mjs");
  });

  it("copies only files that exist and that .dockerignore lets into the context", () => {
    const copies = instructions.filter((l) => l.startsWith("COPY ") && !l.includes("--from="));
    const sources = copies.flatMap((l) => l.replace(/^COPY\s+(--\S+\s+)*/, "").split(/\s+/).slice(0, -1));
    expect(sources.sort()).toEqual([...ORCHESTRATOR_ROOMS.map((room) => `${room}/`), "package-lock.json", "package.json", "tsconfig.json"].sort());
    for (const source of sources) expect(existsSync(source), source).toBe(true);
    expect(ignore[0]).toBe("**");
    for (const source of sources) expect(ignore).toContain(source.endsWith("/") ? `!${source}**` : `!${source}`);
  });

  it("tags the image by a hash of exactly what it copies", () => {
    expect([...IMAGE_SOURCES].sort()).toEqual([...ORCHESTRATOR_ROOMS, "package-lock.json", "package.json", "tsconfig.json"].sort());
  });

  it("runs the bundle as the unprivileged node user, with no region baked in", () => {
    const runtime = instructions.slice(instructions.indexOf(stages[1]!));
    expect(runtime).toContain("USER node");
    expect(runtime.indexOf("USER node")).toBeLessThan(runtime.findIndex((l) => l.startsWith("ENTRYPOINT")));
    expect(runtime.at(-1)).toBe('ENTRYPOINT ["node", "/app/orchestrator.js"]');
    expect(runtime.some((l) => l.startsWith("COPY --from=build") && l.includes("/src/dist/orchestrator.js /app/orchestrator.js"))).toBe(true);
    expect(dockerfile).not.toMatch(/AWS_(DEFAULT_)?REGION\s*=|ENV\s+AWS_/);
  });
});
