/**
 * The contract between the S3 trigger (functions/), the orchestrator start job (jobs/) and the
 * infrastructure that wires them (infra/), one file per role:
 *
 * - `env.ts`: every environment variable and job parameter name passed between them;
 * - `tags.ts`: tag keys, AWS's and Batch's tag rules, and `tagProblems`, the one check of extra tags;
 * - `limits.ts`: Batch and ECS limits, name patterns and the start job's exit codes;
 * - `codec.ts`: one encode/decode pair per JSON value passed through the environment, the input object's
 *   environment entries and parameters, and the trigger's idempotency table;
 * - `log.ts`: the one logger interface (types only);
 * - `delivery.ts`: how S3's events reach the trigger (`trigger.delivery`), and each delivery's numbers;
 * - `errors.ts`: what keeps an error's fields in serialized code, and the name and message of anything thrown;
 * - `orchestration.ts`: who submits a run's DAG (`orchestrator.mode`) and the inline submission's bounds.
 *
 * Pure constants, types and functions: contract/ imports nothing but itself (no npm packages, no Node
 * builtins, no other room), so it is safe to capture in the serialized Lambda and cheap to load in the
 * container. Import it as `../contract`.
 */
export * from "./env";
export * from "./tags";
export * from "./limits";
export * from "./codec";
export * from "./log";
export * from "./errors";
export type * from "./outputs";
export * from "./run";
export * from "./trigger";
export * from "./delivery";
export * from "./orchestration";
