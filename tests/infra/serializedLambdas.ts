/**
 * The code of every `aws.lambda.CallbackFunction` the program creates, as Pulumi serializes it. Under runtime
 * mocks the function's `code` input reaches the mocks as an archive without its assets (`{ assets: {} }`): the
 * serialized text is read instead where CallbackFunction gets it, from `pulumi.runtime.serializeFunction`, which
 * this spies on (through, not instead: the program gets the same result). Call it before the program is loaded;
 * the spy is restored with the file's other mocks (`vi.restoreAllMocks`).
 */
import * as pulumi from "@pulumi/pulumi";
import { vi } from "vitest";

/** Installs the spy; the returned function resolves to each serialized Lambda's `__index.js` text, in creation order. */
export function serializedLambdas(): () => Promise<string[]> {
  const spy = vi.spyOn(pulumi.runtime, "serializeFunction");
  return async () => {
    const lambdas = spy.mock.calls.map((call, i) => ({ options: call[1], result: spy.mock.results[i]! }));
    const serialized = await Promise.all(lambdas.filter((l) => l.options?.exportName === "handler").map((l) => l.result.value as ReturnType<typeof pulumi.runtime.serializeFunction>));
    return serialized.map((s) => s.text);
  };
}
