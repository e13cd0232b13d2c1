/**
 * A container job definition's args as data: the fields the job definition component (infra/jobDefinition.ts)
 * takes, typed by Batch's own shapes (`@aws-sdk/client-batch`), so the stack model can fill them without Pulumi.
 */
import type { EvaluateOnExit } from "@aws-sdk/client-batch";
import type { Platform } from "./batchRules";
import type { ContainerFeatures } from "./containerRules";

/**
 * The container fields of {@link ContainerFeatures} (volumes, secrets, GPUs, …) plus what the job definition
 * component itself takes. `Input` is what its deployed values (the image, the environment's values, the
 * roles) are: plain strings in the stack model (model.ts `containerArgs`, which the CLI's local runs read
 * too), Pulumi inputs in the component (infra/jobDefinition.ts `ContainerJobDefinitionArgs`).
 */
export interface JobDefinitionArgs<Input = string> extends ContainerFeatures {
  /** The container image, by tag or digest. */
  readonly image: Input;
  /** vCPUs per job. Fargate accepts 0.25, 0.5, 1, 2, 4, 8, 16. @default 1 */
  readonly vcpus?: number;
  /** Memory per job in MiB. @default 2048 */
  readonly memoryMiB?: number;
  /** The container's command (`Ref::name` placeholders allowed). @default the image's own */
  readonly command?: readonly string[];
  /** Environment variables of the container (AWS_REGION and AWS_DEFAULT_REGION are always set). @default {} */
  readonly environment?: Readonly<Record<string, Input>>;
  /** Default values for `Ref::name` placeholders in `command`. @default none */
  readonly parameters?: Readonly<Record<string, string>>;
  /** @default false */
  readonly readonlyRootFilesystem?: boolean;
  /** Role the container's code runs as. @default none (the job gets no AWS credentials) */
  readonly jobRoleArn?: Input;
  /** @default EC2 */
  readonly platform?: Platform;
  /**
   * The role ECS uses to pull the image, write logs (Fargate) and read `secrets`. @default on Fargate or
   * with secrets, a role scoped to this log group, the private ECR image and the secrets; otherwise none
   */
  readonly executionRoleArn?: Input;
  /** Fargate only: needed in public subnets without a NAT gateway. @default false */
  readonly assignPublicIp?: boolean;
  /** 1 to 10. @default 3 */
  readonly retryAttempts?: number;
  /** At most 5 rules; end with a catch-all. @default DEFAULT_EVALUATE_ON_EXIT */
  readonly evaluateOnExit?: readonly EvaluateOnExit[];
  /** Per attempt; Batch's minimum is 60. @default 3600 */
  readonly timeoutSeconds?: number;
  /** Copy the job's tags to its ECS task. @default true */
  readonly propagateTags?: boolean;
  /** Days to keep container output. */
  readonly logRetentionDays: number;
  /** Tags on every resource the component creates. @default {} */
  readonly tags?: Readonly<Record<string, string>>;
}
