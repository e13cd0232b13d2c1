/** contract/errors.ts: the name and message of anything thrown, duck-typed, never "[object Object]". */
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { describeError, errorParts, errorSummary, toError, toNativeError } from "../../contract/errors";

describe("errorParts / errorSummary / toError", () => {
  it.each<[string, () => unknown, string]>([
    ["an Error", () => new RangeError("too big"), "RangeError: too big"],
    ["a plain object with name and message", () => ({ name: "ClientException", message: "Job definition is INACTIVE" }), "ClientException: Job definition is INACTIVE"],
    ["an Error of another realm", () => runInNewContext("new Error('x')"), "Error: x"],
    ["an object with a message and no name", () => ({ message: "no name" }), "Error: no name"],
    ["an object with a name and no message", () => ({ name: "Odd", code: 7 }), 'Odd: {"name":"Odd","code":7}'],
    ["an object without either", () => ({ code: 500 }), 'Error: {"code":500}'],
    ["an object with a cycle", () => ((o: Record<string, unknown>) => ((o.self = o), o))({ a: 1 }), "Error: an object that is not JSON (keys: a, self)"],
    ["a string", () => "boom", "Error: boom"],
    ["a number", () => 42, "Error: 42"],
    ["undefined", () => undefined, "Error: undefined"],
    ["null", () => null, "Error: null"],
    ["a BigInt", () => 10n, "Error: 10n"],
    ["an Error with an empty message", () => new TypeError(""), "TypeError"],
  ])("%s", (_, make, summary) => {
    const value = make();
    expect(errorSummary(value)).toBe(summary);
    expect(errorSummary(toError(value))).toBe(summary);
    expect(`${toError(value).name}: ${toError(value).message}`).not.toContain("[object Object]");
  });

  it("keeps an error-like value itself (its cause and stack), wraps anything else with it as the cause", () => {
    const foreign = runInNewContext("new Error('x')") as Error;
    expect(toError(foreign)).toBe(foreign);
    const plain = { code: 500 };
    expect(toError(plain)).toMatchObject({ name: "Error", message: '{"code":500}', cause: plain });
    expect(errorParts("boom")).toEqual({ name: "Error", message: "boom" });
  });

  // What Pulumi's serializer makes of an error class of the serialized code: a constructor whose instances are
  // not `instanceof Error` (no prototype chain to Error.prototype), with name and message set by keepErrorFields.
  const serializedClassError = () => Object.assign(Object.create({}), { name: "SubmissionError", message: "run x: submission failed after 0 of 3 jobs" });

  it("toNativeError: a native Error, name and message kept and the value as cause, for code that checks instanceof Error (Powertools)", () => {
    const thrown = serializedClassError();
    expect(thrown instanceof Error).toBe(false);
    const native = toNativeError(thrown);
    expect(native).toBeInstanceOf(Error);
    expect(native).toMatchObject({ name: "SubmissionError", message: "run x: submission failed after 0 of 3 jobs", cause: thrown });
    const real = new RangeError("too big");
    expect(toNativeError(real)).toBe(real);
    expect(toNativeError("boom")).toMatchObject({ name: "Error", message: "boom" });
  });

  it("describeError (contract/errors.ts, what the submitter's messages use): name and message whatever the class, never [object Object]", () => {
    expect(describeError(serializedClassError())).toBe("SubmissionError: run x: submission failed after 0 of 3 jobs");
    expect(describeError(new RangeError("too big"))).toBe("RangeError: too big");
    expect(describeError("SIGTERM")).toBe("SIGTERM");
  });
});
