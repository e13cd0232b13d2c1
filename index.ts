/**
 * Entry point: validate the stack config, build the pipeline, export what operators and later stacks
 * need. No logic lives here; see infra/.
 */
import * as pulumi from "@pulumi/pulumi";
import { parsePipelineConfig, providerConfigFromPulumi, rawConfigFromPulumi } from "./infra/config";
import { resourcePrefix } from "./infra/naming";
import { Pipeline } from "./infra/pipeline";

const namespace = pulumi.getProject();
const all = pulumi.runtime.allConfig();
const config = parsePipelineConfig(rawConfigFromPulumi(all, namespace), namespace, providerConfigFromPulumi(all));
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
