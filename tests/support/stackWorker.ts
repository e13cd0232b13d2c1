/**
 * Setup file of the "stacks" project (vitest.config.mts): files that load the Pulumi program under
 * runtime mocks, one after another in the same worker. Packages stay loaded (Node's own module cache:
 * @pulumi/pulumi, @pulumi/aws, the AWS SDK), but each file starts from a fresh module graph of the
 * project's sources (tests/, index.ts, infra/, stack/ ...), so `await import("../../index")` evaluates
 * the program again, with the config and mocks that file has just set. Pulumi's `setMocks` resets the
 * runtime's per-stack state itself (settings.resetOptions: the monitor, the root stack resource, leak
 * candidates, outstanding RPCs), and `setupPulumiMocks` replaces the whole config.
 */
import { afterAll, vi } from "vitest";
import { settle } from "../mocks";

vi.resetModules();

// Whatever the file's program still registers lands in its own mocks, not the next file's.
afterAll(async () => {
  await settle();
});
