/**
 * Entry point: validate the stack config, build the pipeline, export what operators and later stacks
 * need. No logic lives here; see infra/.
 */
import * as pulumi from "@pulumi/pulumi";
import { loadPipelineConfig } from "./stack/config";
import { resourcePrefix } from "./stack/naming";
import { Pipeline } from "./infra/pipeline";
import type { StackOutputValues } from "./contract";

const namespace = pulumi.getProject();
// Pulumi runs the program in the project's directory, where `build` folders are relative to.
const config = loadPipelineConfig(pulumi.runtime.allConfig(), namespace, { projectDir: process.cwd() });
const pipeline = new Pipeline(resourcePrefix(namespace, pulumi.getStack()), config);

/** An output's value as the program may give it: an Input, or an object of Inputs. */
type Exported<T> = T extends string ? pulumi.Input<T> : pulumi.Input<T> | { [P in keyof T]: pulumi.Input<T[P]> };

/** What is exported, in the one shape the CLI also reads (contract/outputs.ts): a name missing or extra fails tsc. */
const outputs = {
  queueArns: pipeline.platform.queueArns,
  jobDefinitionNames: pipeline.jobDefinitionNames,
  logGroupNames: pipeline.logGroupNames,
  computeEnvironmentArns: { spot: pipeline.platform.spot.arn, onDemand: pipeline.platform.onDemand.arn },
  startJobDefinitionName: pipeline.orchestrator.jobDefinition.name,
  orchestratorImage: pipeline.orchestrator.imageUri,
  jobStateLogGroup: pipeline.observability.stateLog.name,
  failureTopicArn: pipeline.observability.failureTopic.arn,
  inputBucketName: pipeline.inputBucket.name,
  triggerFunctionName: pipeline.trigger.function.name,
  deadLetterQueueUrl: pipeline.trigger.deadLetterQueue.url,
  // Where runs start and where jobs write.
  startQueueArn: pipeline.platform.queue(config.startQueue).arn,
  processQueueArn: pipeline.platform.queue(config.processQueue).arn,
  triggerPrefix: config.trigger.prefix,
  triggerSuffix: config.trigger.suffix,
  outputPrefix: config.trigger.outputPrefix,
  // Attach to the people and CI roles that run `batch-pipeline` against this stack (README, "Operate it from a terminal").
  operatorPolicyArn: pipeline.operator.policy.arn,
} satisfies { [K in keyof StackOutputValues]: Exported<StackOutputValues[K]> };

// Pulumi reads a program's outputs from its module's named exports.
export const {
  queueArns, jobDefinitionNames, logGroupNames, computeEnvironmentArns, startJobDefinitionName, orchestratorImage, jobStateLogGroup,
  failureTopicArn, inputBucketName, triggerFunctionName, deadLetterQueueUrl, startQueueArn, processQueueArn, triggerPrefix, triggerSuffix,
  outputPrefix, operatorPolicyArn,
} = outputs;
