/**
 * Entry point: validate the stack config, build the pipeline, export what operators and later stacks
 * need. No logic lives here; see infra/.
 */
import * as pulumi from "@pulumi/pulumi";
import { loadPipelineConfig } from "./infra/config";
import { resourcePrefix } from "./infra/naming";
import { Pipeline } from "./infra/pipeline";

const namespace = pulumi.getProject();
// Pulumi runs the program in the project's directory, where `build` folders are relative to.
const config = loadPipelineConfig(pulumi.runtime.allConfig(), namespace, { projectDir: process.cwd() });
const pipeline = new Pipeline(resourcePrefix(namespace, pulumi.getStack()), config);

export const queueArns = pipeline.platform.queueArns;
export const jobDefinitionNames = pipeline.jobDefinitionNames;
export const logGroupNames = pipeline.logGroupNames;
export const computeEnvironmentArns = {
  spot: pipeline.platform.spot.arn,
  onDemand: pipeline.platform.onDemand.arn,
};
export const startJobDefinitionName = pipeline.orchestrator.jobDefinition.name;
export const orchestratorImage = pipeline.orchestrator.imageUri;
export const jobStateLogGroup = pipeline.observability.stateLog.name;
export const failureTopicArn = pipeline.observability.failureTopic.arn;
export const inputBucketName = pipeline.inputBucket.name;
export const triggerFunctionName = pipeline.trigger.function.name;
export const deadLetterQueueUrl = pipeline.trigger.deadLetterQueue.url;
// What `batch-pipeline` (cli/) reads besides the names above: where runs start and where jobs write.
export const startQueueArn = pipeline.platform.queue(config.startQueue).arn;
export const processQueueArn = pipeline.platform.queue(config.processQueue).arn;
export const triggerPrefix = config.trigger.prefix;
export const triggerSuffix = config.trigger.suffix;
export const outputPrefix = config.trigger.outputPrefix;
/** Attach to the people and CI roles that run `batch-pipeline` against this stack (README, "Operate it from a terminal"). */
export const operatorPolicyArn = pipeline.operator.policy.arn;
