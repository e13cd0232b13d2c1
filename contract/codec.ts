/**
 * The JSON values infra/ hands to the trigger (functions/) and the orchestrator (jobs/) through the
 * environment, and the records the trigger keeps: one encoder and one decoder per value, so the three
 * rooms agree on the format. Pure code: no imports (see contract/index.ts).
 */

/**
 * The stack's tags, as infra sets them in `START_JOB_TAGS` (trigger) and `PIPELINE_JOB_TAGS` (start job).
 * Validation of the tags themselves is `tagProblems` (contract/tags.ts).
 */
export function encodeTags(tags: Readonly<Record<string, string>>): string {
  return JSON.stringify(tags);
}

/** `PIPELINE_JOB_DEFINITIONS`: workflow job definition key → job definition name (or ARN). */
export function encodeJobDefinitions(names: Readonly<Record<string, string>>): string {
  return JSON.stringify(names);
}

/**
 * `PIPELINE_WORKFLOW`: the workflow spec as JSON. Only the JSON: the spec's rules live in jobs/spec.ts
 * (`parseWorkflowSpec`), its size limit in infra/orchestrator.ts.
 */
export function encodeWorkflow(workflow: unknown): string {
  return JSON.stringify(workflow);
}

/**
 * The DynamoDB table Powertools' `DynamoDBPersistenceLayer` needs, with its default attribute names:
 * partition key `id` (string), no sort key, TTL on `expiration` (epoch seconds). Items also carry
 * `status`, `in_progress_expiration` (epoch milliseconds) and `data` (the stored start job).
 * infra/trigger.ts creates the table and grants the actions from this.
 */
export const IDEMPOTENCY_TABLE_SCHEMA = {
  hashKey: "id",
  attributes: [{ name: "id", type: "S" }],
  ttlAttribute: "expiration",
  /** Exactly the calls the persistence layer makes (grant these on the table ARN only). */
  actions: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
} as const;

/**
 * Prefix of idempotency keys (the table's `id` values). Fixed rather than Powertools' default (the
 * function name), so records survive the function being replaced under a new auto-generated name.
 */
export const IDEMPOTENCY_KEY_PREFIX = "batch-pipeline.start-job";
