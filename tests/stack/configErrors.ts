/** Helpers of the stack config tests: the namespace, and the message of the ConfigError a config throws. */
import { expect } from "vitest";
import { ConfigError, parsePipelineConfig, type ProviderConfig } from "../../stack/config";

export const NS = "batch-pipeline";

/** The message of the {@link ConfigError} `raw` fails with (and fails the test if it passes). */
export function errorOf(raw: Record<string, unknown>, provider: ProviderConfig = {}): string {
  try {
    parsePipelineConfig(raw, NS, provider);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error("expected a ConfigError");
}
