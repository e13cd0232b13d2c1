/**
 * contract/trigger.ts: the one "does the trigger start a run for this key" predicate. The trigger's event
 * parser, `submit`'s key check and the notes of `plan` and `run` all decide with it, so one table of keys
 * gives the same answer everywhere.
 */
import { describe, expect, it } from "vitest";
import { keyRejection, type KeyRejection, keyRejectionRule } from "../../contract/trigger";
import { ignoredBecause } from "../../cli/stack/target";
import { keyProblem } from "../../cli/submit/upload";
import { parseTriggerEvent } from "../../functions/objectEvents";

const FILTER = { prefix: "incoming/", suffix: ".csv", outputPrefix: "results/" };
const BUCKET = "input-bucket";

const CASES: [key: string, sizeBytes: number, expected: KeyRejection | undefined][] = [
  ["incoming/a.csv", 10, undefined],
  ["incoming/deep/b.csv", 0, undefined],
  ["results/a.csv", 10, "ignored-prefix"],
  // Under both the output prefix and the trigger prefix (outputPrefix inside prefix is refused by config,
  // but the trigger checks the output prefix first whatever the filter says).
  ["elsewhere/a.csv", 10, "outside-prefix"],
  ["incoming/a.txt", 10, "outside-suffix"],
  ["incoming/folder/", 0, "outside-suffix"],
];

describe("keyRejection", () => {
  it.each(CASES)("%s (%i bytes): %s", (key, sizeBytes, expected) => {
    expect(keyRejection(key, sizeBytes, FILTER)).toBe(expected);
  });

  it("refuses a folder marker only when it is empty, and only when the size is known", () => {
    const any = { prefix: "incoming/", suffix: "" };
    expect(keyRejection("incoming/folder/", 0, any)).toBe("folder-marker");
    expect(keyRejection("incoming/folder/", 1, any)).toBeUndefined();
    expect(keyRejection("incoming/folder/", undefined, any)).toBeUndefined();
  });

  it("an empty output prefix ignores nothing; empty prefix and suffix take every key", () => {
    expect(keyRejection("anything", 5, { prefix: "", suffix: "", outputPrefix: "" })).toBeUndefined();
    expect(keyRejection("anything", 5, { prefix: "", suffix: "" })).toBeUndefined();
  });
});

describe("every caller decides with it", () => {
  const event = (key: string, size: number) => ({
    Records: [{ eventName: "ObjectCreated:Put", eventSource: "aws:s3", s3: { bucket: { name: BUCKET }, object: { key: encodeURIComponent(key).replace(/%2F/g, "/"), size, sequencer: "0A1B" } } }],
  });

  it.each([...CASES, ["incoming/folder/", 0, "folder-marker"] as const].map(([key, size, expected]) => [key, size, expected ?? "runs"]))(
    "%s (%i bytes): %s",
    (key, sizeBytes, expected) => {
      const filter = expected === "folder-marker" ? { ...FILTER, suffix: "" } : FILTER;
      const parsed = parseTriggerEvent(event(key, sizeBytes), { bucket: BUCKET, filter });
      const trigger = parsed.created.length === 1 ? "runs" : parsed.ignored[0]?.reason;
      const submit = keyProblem(key, sizeBytes, { triggerPrefix: filter.prefix, triggerSuffix: filter.suffix, outputPrefix: filter.outputPrefix });
      const plan = ignoredBecause(key, sizeBytes, { ...filter } as never);
      const rule = expected === "runs" ? undefined : keyRejectionRule(expected as KeyRejection, filter);
      expect({ trigger, submit: submit === undefined ? undefined : submit.includes(rule!), plan }).toEqual({
        trigger: expected,
        submit: expected === "runs" ? undefined : true,
        plan: rule,
      });
    },
  );
});
