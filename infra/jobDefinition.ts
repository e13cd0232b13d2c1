import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { JobDefinitionType, PlatformCapability, type RetryStrategy } from "@aws-sdk/client-batch";
import { roleNaming } from "../stack/naming";
import { assumeRolePolicy, policyJson } from "./iam";
import { argsFailer } from "../stack/argsError";
import { containerProperties, executionRoleStatements } from "./containerProperties";
import { jobSizeProblem, type Platform, retryAttemptsProblem } from "../stack/batchRules";
import { DEFAULT_EVALUATE_ON_EXIT, MAX_EVALUATE_ON_EXIT_RULES, retryStrategyOf, SPOT_RECLAIMED_RULES } from "../stack/retryStrategy";
import { containerProblems, problemField } from "../stack/containerRules";
import type { JobDefinitionArgs } from "../stack/jobDefinitionArgs";

export { containerProperties, executionRoleStatements };
export { DEFAULT_EVALUATE_ON_EXIT, SPOT_RECLAIMED_RULES };

export type { Platform };

/** The component's args: {@link JobDefinitionArgs} whose image, environment values and roles may be Pulumi inputs. */
export type ContainerJobDefinitionArgs = JobDefinitionArgs<pulumi.Input<string>>;

export class JobDefinitionArgsError extends Error {
  override readonly name = "JobDefinitionArgsError";
}

/** Patterns in `evaluateOnExit` may only end with `*`; Batch rejects anything else at register time. */
function checkPattern(value: string | undefined): boolean {
  return value === undefined || !value.slice(0, -1).includes("*");
}

type DependsOn = pulumi.ResourceOptions["dependsOn"];

/** A component's `dependsOn` (children do not inherit it) plus `extra`, in any form Pulumi accepts. */
function withDependency(dependsOn: DependsOn, extra: pulumi.Resource | undefined): DependsOn {
  if (extra === undefined) return dependsOn;
  if (dependsOn === undefined) return [extra];
  if (Array.isArray(dependsOn)) return [...dependsOn, extra];
  if (pulumi.Output.isInstance(dependsOn)) {
    return (dependsOn as pulumi.Output<pulumi.Input<pulumi.Resource>[] | pulumi.Resource>).apply((d) => [...(Array.isArray(d) ? d : [d]), extra]);
  }
  return [dependsOn as pulumi.Resource, extra];
}

/** Fills defaults and checks Batch's rules. Pure, table-tested. */
export function resolveJobDefinitionArgs(name: string, args: ContainerJobDefinitionArgs) {
  const a = {
    vcpus: 1,
    memoryMiB: 2048,
    platform: PlatformCapability.EC2 as Platform,
    assignPublicIp: false,
    retryAttempts: 3,
    evaluateOnExit: DEFAULT_EVALUATE_ON_EXIT,
    timeoutSeconds: 3600,
    propagateTags: true,
    // An explicit `undefined` means "the default", not "unset the default".
    ...(Object.fromEntries(Object.entries(args).filter(([, v]) => v !== undefined)) as ContainerJobDefinitionArgs),
  };
  const fail = argsFailer(JobDefinitionArgsError, "ContainerJobDefinition", name);
  if (!(a.vcpus > 0)) fail("vcpus", a.vcpus, "vcpus must be greater than 0");
  if (!Number.isInteger(a.memoryMiB) || a.memoryMiB < 4) fail("memoryMiB", a.memoryMiB, "memoryMiB must be a whole number of at least 4");
  const size = jobSizeProblem(a.platform, a.vcpus, a.memoryMiB);
  if (size) fail(size.field, a[size.field], size.rule);
  if (a.platform !== PlatformCapability.FARGATE && args.assignPublicIp !== undefined) {
    fail("assignPublicIp", args.assignPublicIp, "only Fargate job definitions assign public IPs");
  }
  for (const problem of containerProblems(a.platform, a)) {
    const value = problem.path.reduce<unknown>((v, k) => (v as Record<string | number, unknown> | undefined)?.[k], a);
    fail(problemField(problem.path), value, problem.rule);
  }
  const retries = retryAttemptsProblem(a.retryAttempts);
  if (retries) fail(retries.field, a.retryAttempts, retries.rule);
  if (a.evaluateOnExit.length > MAX_EVALUATE_ON_EXIT_RULES) fail("evaluateOnExit", a.evaluateOnExit.length, `Batch accepts at most ${MAX_EVALUATE_ON_EXIT_RULES} rules`);
  a.evaluateOnExit.forEach((rule, i) => {
    for (const key of ["onStatusReason", "onReason", "onExitCode"] as const) {
      if (!checkPattern(rule[key])) fail(`evaluateOnExit[${i}].${key}`, rule[key], "patterns may only end with `*`");
    }
  });
  if (a.evaluateOnExit.length > 0) {
    const last = a.evaluateOnExit[a.evaluateOnExit.length - 1]!;
    const catchAll = [last.onStatusReason, last.onReason, last.onExitCode].filter((p) => p !== undefined);
    if (!(catchAll.length === 1 && catchAll[0] === "*")) {
      fail(
        "evaluateOnExit",
        a.evaluateOnExit,
        "end with a catch-all rule (e.g. `{ onReason: \"*\", action: \"EXIT\" }`): Batch retries every failure no rule matches",
      );
    }
  }
  if (!Number.isInteger(a.timeoutSeconds) || a.timeoutSeconds < 60) fail("timeoutSeconds", a.timeoutSeconds, "Batch's minimum is 60 seconds");
  return a;
}

/** Batch's RetryStrategy in the provider's shape (`evaluateOnExits`), every condition passed as is. */
function pulumiRetryStrategy(strategy: RetryStrategy): aws.types.input.batch.JobDefinitionRetryStrategy {
  return {
    attempts: strategy.attempts,
    evaluateOnExits: (strategy.evaluateOnExit ?? []).map((r) => ({
      action: r.action!,
      onExitCode: r.onExitCode,
      onReason: r.onReason,
      onStatusReason: r.onStatusReason,
    })),
  };
}

/**
 * Job definition names by workflow key (`{ process: "<name>", barrier: "<name>" }`): what a run's DAG is submitted
 * against, given to the start job, to an inline trigger and to the stack's outputs.
 */
export function jobDefinitionNamesOf(definitions: Readonly<Record<string, ContainerJobDefinition>>): pulumi.Output<Record<string, string>> {
  return pulumi.all(Object.fromEntries(Object.entries(definitions).map(([key, d]) => [key, d.name])));
}

/**
 * A container job definition with its own log group (with retention), a retry strategy that survives
 * Spot reclamation, a timeout, and tag propagation. Submit it by `name` (latest active revision) or
 * `arnPrefix`: every change registers a new revision, so the revisioned `arn` goes stale.
 */
export class ContainerJobDefinition extends pulumi.ComponentResource {
  readonly definition: aws.batch.JobDefinition;
  readonly logGroup: aws.cloudwatch.LogGroup;
  readonly name: pulumi.Output<string>;
  /** `arn:…:job-definition/<name>`, without the revision: what IAM grants and SubmitJob should use. */
  readonly arnPrefix: pulumi.Output<string>;
  readonly executionRole?: aws.iam.Role;

  constructor(name: string, args: ContainerJobDefinitionArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("batch-pipeline:batch:ContainerJobDefinition", name, {}, opts);
    const a = resolveJobDefinitionArgs(name, args);
    const tags = a.tags ?? {};
    const fargate = a.platform === PlatformCapability.FARGATE;

    this.logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      {
        // Batch's own default is `/aws/batch/job`; one group per definition keeps retention and access separate.
        name: `/aws/batch/${name}`,
        retentionInDays: a.logRetentionDays,
        tags,
      },
      { parent: this },
    );

    let executionRoleArn: pulumi.Input<string> | undefined = a.executionRoleArn;
    let executionPolicy: aws.iam.RolePolicy | undefined;
    const secrets = a.secrets && [...a.secrets];
    if ((fargate || (secrets?.length ?? 0) > 0) && executionRoleArn === undefined) {
      const role = new aws.iam.Role(
        `${name}-exec-role`,
        { ...roleNaming(`${name}-exec-role`), assumeRolePolicy: assumeRolePolicy("ecs-tasks.amazonaws.com", { parent: this }), tags },
        { parent: this },
      );
      const partition = aws.getPartitionOutput({}, { parent: this }).partition;
      executionPolicy = new aws.iam.RolePolicy(
        `${name}-exec-policy`,
        {
          role: role.name,
          policy: policyJson(
            pulumi.all([this.logGroup.arn, a.image, partition]).apply(([logGroupArn, image, p]) => executionRoleStatements(logGroupArn, image, p, secrets)),
          ),
        },
        { parent: this },
      );
      this.executionRole = role;
      executionRoleArn = role.arn;
    }

    const region = aws.getRegionOutput({}, { parent: this }).region;
    const props = pulumi
      .all([a.image, a.jobRoleArn, executionRoleArn, pulumi.output(a.environment ?? {}), this.logGroup.name, region])
      .apply(([image, jobRoleArn, execArn, environment, logGroupName, regionName]) =>
        JSON.stringify(
          containerProperties({
            image,
            vcpus: a.vcpus,
            memoryMiB: a.memoryMiB,
            command: a.command && [...a.command],
            environment: environment as Record<string, string>,
            volumes: a.volumes && [...a.volumes],
            mountPoints: a.mountPoints && [...a.mountPoints],
            secrets,
            gpus: a.gpus,
            ephemeralStorageGiB: a.ephemeralStorageGiB,
            sharedMemoryMiB: a.sharedMemoryMiB,
            ulimits: a.ulimits && [...a.ulimits],
            user: a.user,
            readonlyRootFilesystem: a.readonlyRootFilesystem,
            jobRoleArn,
            executionRoleArn: execArn,
            platform: a.platform,
            assignPublicIp: a.assignPublicIp,
            logGroupName,
            region: regionName,
            streamPrefix: name,
          }),
        ),
      );

    this.definition = new aws.batch.JobDefinition(
      `${name}-jd`,
      {
        type: JobDefinitionType.Container,
        platformCapabilities: [a.platform],
        containerProperties: props,
        parameters: a.parameters,
        retryStrategy: pulumiRetryStrategy(retryStrategyOf(a.retryAttempts, a.evaluateOnExit)),
        timeout: { attemptDurationSeconds: a.timeoutSeconds },
        propagateTags: a.propagateTags,
        // Keep old revisions ACTIVE while a DAG submitted against them may still be running.
        deregisterOnNewRevision: false,
        tags,
      },
      // Children do not inherit a component's dependsOn; a definition is "ready" only when what the
      // caller waits for (e.g. its job role's policy) exists.
      { parent: this, dependsOn: withDependency(opts.dependsOn, executionPolicy) },
    );
    this.name = this.definition.name;
    this.arnPrefix = this.definition.arnPrefix;
    this.registerOutputs({ name: this.name, arnPrefix: this.arnPrefix, logGroupName: this.logGroup.name });
  }
}
