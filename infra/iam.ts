/**
 * Least-privilege IAM helpers. Every policy the pipeline writes goes through `policyJson`, so the
 * "no wildcard actions" rule is checked in one place at preview time.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { TAG_KEYS } from "../contract";
import { policyDocument } from "../stack/policyDocument";

export type PolicyStatement = aws.types.input.iam.PolicyStatement;

/** A statement would grant every action of a service (`*` or `svc:*`): refused at preview. */
export class WildcardActionError extends Error {
  override readonly name = "WildcardActionError";
}

/** Returns the wildcard actions among `actions` (`*`, `batch:*`, `s3:Get*` is allowed: it is scoped). */
export function wildcardActions(actions: readonly string[]): string[] {
  return actions.filter((a) => a === "*" || /^[a-z0-9-]+:\*$/i.test(a));
}

/**
 * Renders a policy document, refusing Allow statements with wildcard actions (and NotAction, a wildcard
 * in disguise). Deny statements may use wildcards: denying broadly is the safe direction.
 */
export function renderPolicy(statements: readonly PolicyStatement[]): string {
  for (const s of statements) {
    if (s.Effect === "Deny") continue;
    const actions = s.Action === undefined ? [] : Array.isArray(s.Action) ? s.Action : [s.Action];
    const bad = wildcardActions(actions as string[]);
    if (bad.length > 0 || s.NotAction !== undefined) {
      throw new WildcardActionError(
        `IAM statement ${s.Sid ?? "(no Sid)"} grants ${bad.length > 0 ? bad.join(", ") : "NotAction"}; name each action instead`,
      );
    }
  }
  return JSON.stringify(policyDocument([...statements]));
}

/** `renderPolicy` over inputs, for the `policy:` of a RolePolicy. */
export function policyJson(statements: pulumi.Input<pulumi.Input<PolicyStatement>[]>): pulumi.Output<string> {
  return pulumi.output(statements).apply((resolved) => renderPolicy(resolved as PolicyStatement[]));
}

/**
 * A resource policy's statement that lets AWS services call `actions` on `resource` only under `condition`
 * (their confused-deputy keys, IAM User Guide, "The confused deputy problem"): the failure topic's, the
 * job-state log group's and the trigger queue's policies.
 */
export function serviceAllows(
  Sid: string,
  service: string | string[],
  actions: string[],
  resource: pulumi.Input<string>[],
  condition: NonNullable<PolicyStatement["Condition"]>,
): PolicyStatement {
  return { Sid, Effect: "Allow", Principal: { Service: service }, Action: actions, Resource: resource, Condition: condition };
}

/**
 * The confused-deputy keys each service sends when it assumes a role for a resource of an account
 * (IAM User Guide, "The confused deputy problem"): a trust policy may only require the keys the service
 * sends, or the role can never be assumed.
 * - ECS tasks send `aws:SourceAccount` and `aws:SourceArn` (the task's `arn:…:ecs:<region>:<account>:…`):
 *   the trust policy the ECS developer guide gives for task roles ("Amazon ECS task IAM role") checks both.
 * - Lambda sends `aws:SourceAccount` of the function's account; its execution role documentation names no
 *   `aws:SourceArn`, so only the account is required.
 * - EC2 (instance profiles) and Spot Fleet (`spotfleet.amazonaws.com`, BEST_FIT Spot) document neither key:
 *   their trusts stay unconditioned, and IAM still requires `iam:PassRole` to hand them the role.
 */
export const SERVICE_SOURCE_KEYS: Readonly<Record<string, { account: true; arn?: (partition: string, region: string, account: string) => string }>> = {
  "ecs-tasks.amazonaws.com": { account: true, arn: (partition, region, account) => `arn:${partition}:ecs:${region}:${account}:*` },
  "lambda.amazonaws.com": { account: true },
};

/**
 * Trust policy letting one AWS service assume a role; for the services of {@link SERVICE_SOURCE_KEYS},
 * only on behalf of this account (and its own resources of that service in this region).
 */
export function assumeRolePolicy(service: string, opts: pulumi.InvokeOptions = {}): pulumi.Input<string> {
  const statement = { Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" };
  const keys = SERVICE_SOURCE_KEYS[service];
  if (!keys) return JSON.stringify(policyDocument([statement]));
  return pulumi
    .all([aws.getCallerIdentityOutput({}, opts).accountId, aws.getPartitionOutput({}, opts).partition, aws.getRegionOutput({}, opts).region])
    .apply(([account, partition, region]) =>
      JSON.stringify(
        policyDocument([
          {
            ...statement,
            Condition: {
              StringEquals: { "aws:SourceAccount": account },
              ...(keys.arn ? { ArnLike: { "aws:SourceArn": keys.arn(partition, region, account) } } : {}),
            },
          },
        ]),
      ),
    );
}

/**
 * A transformation for a component whose every IAM role must carry `boundaryArn` as its permissions
 * boundary (stack config `permissionsBoundaryArn`), however deep the role is declared. A trust change
 * replaces the role rather than rewriting its trust in place: the deploy role may not call
 * UpdateAssumeRolePolicy (IAM cannot check what a trust document lets in), only create bounded roles.
 */
export function boundedRoles(boundaryArn: string): pulumi.ResourceTransformation {
  return (args) => {
    if (args.type !== "aws:iam/role:Role") return undefined;
    return {
      props: { ...args.props, permissionsBoundary: boundaryArn },
      opts: pulumi.mergeOptions(args.opts, { replaceOnChanges: ["assumeRolePolicy"] }),
    };
  };
}

/** Anything the grant helpers can read an ARN from. */
export interface HasArn {
  arn: pulumi.Input<string>;
}
export interface HasArnPrefix {
  /** Job definition ARN without the revision: `arn:…:job-definition/name`. */
  arnPrefix: pulumi.Input<string>;
}

/** The `job` ARNs of the account and region a queue is in: Batch names the job it creates `job/<id>`. */
export function jobArnsOf(queueArn: string): string {
  return queueArn.replace(/:job-queue\/.*$/, ":job/*");
}

/**
 * Statements that let a principal submit jobs of exactly these job definitions (any revision) to
 * exactly these queues, with tags whose keys are among `tagKeys`. As the Service Authorization
 * Reference has it for AWS Batch:
 * - `batch:SubmitJob` requires the `job-queue` and the `job` resource (the job it creates, `job/*`:
 *   its id does not exist yet), and may name the job definition with or without its revision;
 * - a SubmitJob that carries `tags` is also authorized as `batch:TagResource`, which AWS evaluates on
 *   the job definition revision (a real denial names `job-definition/NAME:4`), the job and the queue.
 *   Batch defines no condition key that ties TagResource to SubmitJob (EC2's and ECS's `CreateAction`
 *   keys have no Batch counterpart), so the grant is bounded by `aws:TagKeys` to the keys the pipeline sends and by
 *   `aws:RequestTag/pipeline:stack` to this stack's id (every job the pipeline submits carries it).
 * - TagResource on `job/*` still reaches existing jobs; a Deny keeps the principal from re-tagging a job
 *   of another stack of the pipeline (whose TerminateJob grant keys on that tag). A job without the tag
 *   cannot be told from the one being created, so it stays taggable (see the README's IAM section).
 */
export function submitJobStatements(
  queues: readonly HasArn[],
  jobDefinitions: readonly HasArnPrefix[],
  tagging: { keys: readonly string[]; stack: pulumi.Input<string> },
): pulumi.Output<PolicyStatement[]> {
  return pulumi
    .all([
      pulumi.all(queues.map((q) => q.arn)),
      pulumi.all(jobDefinitions.map((d) => d.arnPrefix)),
      pulumi.output(tagging.stack),
    ])
    .apply(([queueArns, prefixes, stack]) => {
      const keys = tagging.keys;
      const stackTag = `aws:ResourceTag/${TAG_KEYS.stack}`;
      const revisions = prefixes.map((p) => `${p}:*`);
      const jobArns = [...new Set(queueArns.map(jobArnsOf))];
      return [
        { Sid: "SubmitToQueue", Effect: "Allow", Action: ["batch:SubmitJob"], Resource: [...queueArns, ...prefixes, ...revisions, ...jobArns] },
        {
          Sid: "TagOnSubmit",
          Effect: "Allow",
          Action: ["batch:TagResource"],
          Resource: [...revisions, ...queueArns, ...jobArns],
          Condition: {
            "ForAllValues:StringEquals": { "aws:TagKeys": [...new Set(keys)].sort() },
            StringEquals: { [`aws:RequestTag/${TAG_KEYS.stack}`]: stack },
          },
        },
        {
          Sid: "NoRetaggingOtherStacksJobs",
          Effect: "Deny",
          Action: ["batch:TagResource"],
          Resource: jobArns,
          // Both must hold: the job carries the stack tag (Null false) and it is another stack's.
          Condition: { Null: { [stackTag]: "false" }, StringNotEquals: { [stackTag]: stack } },
        },
      ] satisfies PolicyStatement[];
    });
}

/**
 * What a principal that submits runs' DAGs needs besides SubmitJob (the start job's role, and the trigger's with
 * `orchestrator.mode` inline or auto): finding a run's jobs and following them, and terminating this stack's jobs
 * on the process queue's account and region (a half-submitted DAG, an earlier attempt's partial one).
 */
export function runJobsStatements(processQueueArn: string, stack: string): PolicyStatement[] {
  return [
    {
      // Finding a run's jobs (idempotency) and following their states. The Service Authorization
      // Reference lists no resource type for these actions, so `*` is the only resource there is.
      Sid: "ReadJobs",
      Effect: "Allow",
      Action: ["batch:ListJobs", "batch:DescribeJobs"],
      Resource: ["*"],
    },
    {
      // Rolling back a half-submitted DAG and replacing a partial one. TerminateJob takes job ARNs
      // (ids are random), so the scope is the tag every job of this stack carries.
      Sid: "TerminateOwnJobs",
      Effect: "Allow",
      Action: ["batch:TerminateJob"],
      Resource: [jobArnsOf(processQueueArn)],
      Condition: { StringEquals: { [`aws:ResourceTag/${TAG_KEYS.stack}`]: stack } },
    },
    {
      // RUNNING children of an earlier attempt's array job (`job/<parent>:<index>`): Batch does not
      // tag array children (TagResource: "ARNs for child jobs of array and multi-node parallel
      // (MNP) jobs aren't supported"), so no tag condition can match them. The submitter terminates
      // only children of parents it found by the run's name on its queue.
      Sid: "TerminateArrayChildren",
      Effect: "Allow",
      Action: ["batch:TerminateJob"],
      Resource: [`${jobArnsOf(processQueueArn)}:*`],
    },
  ];
}

/**
 * Grants `role` the right to submit `jobDefinition` (all revisions) to `queue` with tags keyed
 * `tagging.keys` and the stack tag `tagging.stack`, nothing wider. Returns the inline policy so callers
 * can depend on it.
 */
export function grantSubmitJob(
  name: string,
  role: aws.iam.Role,
  queue: HasArn,
  jobDefinition: HasArnPrefix,
  tagging: { keys: readonly string[]; stack: pulumi.Input<string> },
  opts: pulumi.CustomResourceOptions = {},
): aws.iam.RolePolicy {
  return new aws.iam.RolePolicy(
    name,
    { role: role.name, policy: policyJson(submitJobStatements([queue], [jobDefinition], tagging)) },
    opts,
  );
}
