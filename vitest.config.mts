import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // Pulumi mocks resolve outputs asynchronously; stack tests need more than the 5 s default.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Each test file gets its own module graph, so Pulumi's global runtime state (mocks, stack) never leaks.
    isolate: true,
    pool: "forks",
  },
});
