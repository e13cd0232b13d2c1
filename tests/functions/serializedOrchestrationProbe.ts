/**
 * The orchestrator's part of the inline mode's Lambda, as serializedOrchestration.test.ts serializes it: a
 * factory that, like infra/triggerHandler.ts's, `require()`s the SDK once per container and injects its
 * client and command classes into `planWorkflow` and `submitPlan`, which Pulumi serializes by value with
 * everything they import.
 */
import type { BatchCommands } from "../../batch/calls";
import { submitPlan, type SubmitResult } from "../../batch/submitter";
import { planWorkflow, type PlanContext } from "../../workflow/planner";
import type { WorkflowSpec } from "../../workflow/spec";

/** What the handler is invoked with: a workflow already validated (the spec's zod rules are not serialized) and the plan's context. */
export interface PlanAndSubmitEvent {
  workflow: WorkflowSpec;
  context: PlanContext;
}

export function planAndSubmitFactory(): (event: PlanAndSubmitEvent) => Promise<SubmitResult> {
  const sdk = require("@aws-sdk/client-batch") as typeof import("@aws-sdk/client-batch");
  const batch = new sdk.BatchClient({});
  const commands: BatchCommands = sdk;
  return (event) => submitPlan(planWorkflow(event.workflow, event.context), { batch, commands });
}
