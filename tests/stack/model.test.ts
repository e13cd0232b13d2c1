/** stack/model.ts: what the validated config makes of the trigger's orchestration. */
import { describe, expect, it } from "vitest";
import { triggerOrchestratorMode } from "../../stack/model";

describe("triggerOrchestratorMode", () => {
  it.each([
    ["container", false, "container"],
    ["container", true, "container"],
    ["inline", false, "inline"],
    ["auto", false, "auto"],
    // A run submitted inline has no start job to wait in: auto with wait always takes a start job.
    ["auto", true, "container"],
  ] as const)("mode %s with wait %s deploys a %s trigger", (mode, wait, expected) => {
    expect(triggerOrchestratorMode({ mode, wait })).toBe(expected);
  });
});
