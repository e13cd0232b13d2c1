/**
 * The inline trigger's Lambda factories the end-to-end tests and `npm run measure:lambda` serialize
 * (scripts/lambda-package.cjs takes a module's zero-argument factory): each is what infra/trigger.ts hands
 * `aws.lambda.CallbackFunction` for `orchestrator.mode` inline or auto, `inlineTriggerHandlerFactory(workflow)`,
 * for one workflow, already validated (as the stack validates it at preview).
 */
import { inlineTriggerHandlerFactory } from "../../infra/triggerHandler";

/** The container-mode factory, as infra/trigger.ts hands it over: re-exported so one compile builds every Lambda (lambdaBuild.ts). */
export { triggerHandlerFactory } from "../../infra/triggerHandler";
import { DEFAULT_WORKFLOW, defaultWorkflow, parseWorkflowSpec, type WorkflowSpec } from "../../workflow/spec";

/** Steps of width 10 that all fan into `merge`: more than Batch's 20 dependencies a job, so a barrier tree. */
export const FAN_IN_ARRAYS = 22;

/** prepare → {@link FAN_IN_ARRAYS} arrays of 10 → merge. */
export const FAN_IN_WORKFLOW: WorkflowSpec = (() => {
  const steps = Array.from({ length: FAN_IN_ARRAYS }, (_, i) => ({ name: `s${i}`, jobDefinition: "process", dependsOn: ["prepare"], width: { fixed: 10 } }));
  return parseWorkflowSpec({ steps: [{ name: "prepare", jobDefinition: "process" }, ...steps, { name: "merge", jobDefinition: "process", dependsOn: steps.map((s) => s.name) }] });
})();

/** The default workflow's width past Batch's array size limit (10,000): two arrays. */
export const WIDE_WIDTH = 10_001;

/** The stack's default workflow: prepare → 3 × process → merge. */
export const inlineDefault = inlineTriggerHandlerFactory(DEFAULT_WORKFLOW);
export const inlineWide = inlineTriggerHandlerFactory(defaultWorkflow(WIDE_WIDTH));
export const inlineFanIn = inlineTriggerHandlerFactory(FAN_IN_WORKFLOW);
