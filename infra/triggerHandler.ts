/**
 * The inline Lambda's entry point, as Pulumi serializes it. The factory runs once per Lambda container:
 * it `require`s the npm modules there (so the serialized code loads them from the runtime or the
 * upload instead of capturing them) and hands them to the plain logic in functions/, which Pulumi
 * serializes by value.
 */
import { buildTriggerHandler } from "../functions/wiring";

export function triggerHandlerFactory() {
  const { Batch } = require("@aws-sdk/client-batch");
  const { DynamoDBClient } = require("@aws-sdk/client-dynamodb");
  const { makeIdempotent, IdempotencyConfig } = require("@aws-lambda-powertools/idempotency");
  const { DynamoDBPersistenceLayer } = require("@aws-lambda-powertools/idempotency/dynamodb");
  return buildTriggerHandler(process.env, { Batch, DynamoDBClient, makeIdempotent, IdempotencyConfig, DynamoDBPersistenceLayer });
}
