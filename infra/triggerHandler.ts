/**
 * The inline Lambda's entry point, as Pulumi serializes it. The factory runs once per Lambda container:
 * it `require`s the npm modules there (so the serialized code loads them from the runtime or the
 * upload instead of capturing them) and hands them to the plain logic in functions/, which Pulumi
 * serializes by value. With `orchestrator.mode` inline or auto the factory also captures the stack's workflow
 * (validated at preview) by value: the Lambda's environment holds at most 4 KB, a workflow up to 20 KB.
 */
import { createInlineStarter } from "../functions/inline";
import { buildTriggerHandler } from "../functions/wiring";
import type { WorkflowSpec } from "../workflow/spec";

export function triggerHandlerFactory() {
  const { Batch } = require("@aws-sdk/client-batch");
  const { DynamoDBClient } = require("@aws-sdk/client-dynamodb");
  const { makeIdempotent, IdempotencyConfig } = require("@aws-lambda-powertools/idempotency");
  const { DynamoDBPersistenceLayer } = require("@aws-lambda-powertools/idempotency/dynamodb");
  return buildTriggerHandler(process.env, { Batch, DynamoDBClient, makeIdempotent, IdempotencyConfig, DynamoDBPersistenceLayer });
}

/**
 * The factory of a trigger that submits DAGs itself (`orchestrator.mode` inline or auto): `workflow`, the planner
 * and the submitter are serialized with it (a container-mode trigger's factory above holds neither).
 */
export function inlineTriggerHandlerFactory(workflow: WorkflowSpec) {
  return () => {
    const batchSdk = require("@aws-sdk/client-batch");
    const { DynamoDBClient } = require("@aws-sdk/client-dynamodb");
    const { makeIdempotent, IdempotencyConfig } = require("@aws-lambda-powertools/idempotency");
    const { DynamoDBPersistenceLayer } = require("@aws-lambda-powertools/idempotency/dynamodb");
    return buildTriggerHandler(process.env, { Batch: batchSdk.Batch, batchSdk, DynamoDBClient, makeIdempotent, IdempotencyConfig, DynamoDBPersistenceLayer }, {}, { workflow, createInlineStarter });
  };
}
