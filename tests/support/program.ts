/**
 * The whole program (index.ts) under Pulumi runtime mocks with a stack's config: what a test file that deploys
 * one stack variant calls once in its `beforeAll` (vitest.config.mts puts a file that calls it, through this
 * module's call of setupPulumiMocks, in the "stacks" project).
 */
import { type MockedStack, setupPulumiMocks, settle } from "../mocks";

/** Sets the mocks and `config` (keys without the namespace), evaluates index.ts, waits for every registration. */
export async function deployUnderMocks(config: Record<string, unknown>, options: { stack?: string } = {}): Promise<MockedStack> {
  const stack = await setupPulumiMocks(config, options);
  await import("../../index.js");
  await settle();
  return stack;
}
