/**
 * Setup file of the "shared" project (vitest.config.mts): its test files run one after another in the
 * same worker and module graph, so whatever a file stubs must not outlive it. Registered before the
 * file's own hooks, this `afterAll` runs after them.
 */
import { createRequire } from "node:module";
import { afterAll, vi } from "vitest";

// aws-sdk-client-mock stubs a client class's `send` in sinon's default sandbox and never restores it:
// left in place, one file's mocked BatchClient or SQSClient would answer the next file's real calls.
const sinon = createRequire(require.resolve("aws-sdk-client-mock"))("sinon") as { restore(): void };

afterAll(() => {
  sinon.restore();
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  vi.unstubAllGlobals();
  vi.useRealTimers();
});
