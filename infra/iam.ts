/**
 * Least-privilege IAM helpers. Every policy the pipeline writes goes through `policyJson`, so the
 * "no wildcard actions" rule is checked in one place at preview time.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

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
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

/** `renderPolicy` over inputs, for the `policy:` of a RolePolicy. */
export function policyJson(statements: pulumi.Input<pulumi.Input<PolicyStatement>[]>): pulumi.Output<string> {
  return pulumi.output(statements).apply((resolved) => renderPolicy(resolved as PolicyStatement[]));
}

/** Trust policy letting one AWS service assume a role. */
export function assumeRolePolicy(service: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  });
}

/** Anything the grant helpers can read an ARN from. */
export interface HasArn {
  arn: pulumi.Input<string>;
}
export interface HasArnPrefix {
  /** Job definition ARN without the revision: `arn:…:job-definition/name`. */
  arnPrefix: pulumi.Input<string>;
}

/**
 * Statements that let a principal submit jobs of exactly one job definition (any revision) to exactly
 * one queue, and tag the jobs it submits (Batch checks `batch:TagResource` when SubmitJob carries tags).
 */
export function submitJobStatements(
  queues: readonly HasArn[],
  jobDefinitions: readonly HasArnPrefix[],
): pulumi.Output<PolicyStatement[]> {
  return pulumi
    .all([
      pulumi.all(queues.map((q) => q.arn)),
      pulumi.all(jobDefinitions.map((d) => d.arnPrefix)),
    ])
    .apply(([queueArns, prefixes]) => {
      const definitionArns = prefixes.flatMap((p) => [p, `${p}:*`]);
      const jobArns = queueArns.map((q) => q.replace(/:job-queue\/.*$/, ":job/*"));
      return [
        { Sid: "SubmitToQueue", Effect: "Allow", Action: ["batch:SubmitJob"], Resource: [...queueArns, ...definitionArns] },
        {
          Sid: "TagOnSubmit",
          Effect: "Allow",
          Action: ["batch:TagResource"],
          Resource: [...new Set(jobArns)],
          Condition: { StringEquals: { "batch:CreateAction": "SubmitJob" } },
        },
      ] satisfies PolicyStatement[];
    });
}

/**
 * Grants `role` the right to submit `jobDefinition` (all revisions) to `queue`, nothing wider.
 * Returns the inline policy so callers can depend on it.
 */
export function grantSubmitJob(
  name: string,
  role: aws.iam.Role,
  queue: HasArn,
  jobDefinition: HasArnPrefix,
  opts: pulumi.CustomResourceOptions = {},
): aws.iam.RolePolicy {
  return new aws.iam.RolePolicy(
    name,
    { role: role.name, policy: policyJson(submitJobStatements([queue], [jobDefinition])) },
    opts,
  );
}
