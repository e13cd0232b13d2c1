/**
 * IAM: every Allow names its actions exactly, and nothing attaches a full-access managed policy. The
 * stack's own tests prove its roles this way; these policies hold any program that reuses its
 * components (or writes new roles) to the same rule at `pulumi preview`.
 */
import type { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { asList, forTypes, show, statementLabel, statementsOf, subject } from "./resources";

/** Inputs that hold a policy document, per resource type (identity policies and roles' trust policies). */
const DOCUMENT_INPUTS: Readonly<Record<string, readonly string[]>> = {
  "aws:iam/rolePolicy:RolePolicy": ["policy"],
  "aws:iam/policy:Policy": ["policy"],
  "aws:iam/userPolicy:UserPolicy": ["policy"],
  "aws:iam/groupPolicy:GroupPolicy": ["policy"],
  "aws:iam/role:Role": ["assumeRolePolicy"],
};

/** Every policy document of a resource, with the input path messages name. */
function documentsOf(args: ResourceValidationArgs): { path: string; document: unknown }[] {
  const documents = (DOCUMENT_INPUTS[args.type] ?? [])
    .filter((input) => args.props[input] !== undefined)
    .map((input) => ({ path: input, document: args.props[input] }));
  if (args.type === "aws:iam/role:Role") {
    // The (deprecated) inline policies of a role, each `{ name, policy }`.
    asList(args.props.inlinePolicies).forEach((p, i) => {
      const policy = (p as { policy?: unknown } | null)?.policy;
      if (policy !== undefined) documents.push({ path: `inlinePolicies[${i}].policy`, document: policy });
    });
  }
  return documents;
}

/** IAM's action wildcards: `*` (any run of characters) and `?` (any one character). */
const hasWildcard = (action: string): boolean => /[*?]/.test(action);

function checkAllowStatements(_props: Record<string, unknown>, args: ResourceValidationArgs, report: ReportViolation): void {
  for (const { path, document } of documentsOf(args)) {
    const statements = statementsOf(document);
    if (!statements) {
      report(`${subject(args)}: ${path} is not an IAM policy document (JSON text or an object with a Statement), so its statements cannot be checked; give a document whose Statement lists exact actions.`);
      continue;
    }
    statements.forEach((statement, i) => {
      if (statement.Effect !== "Allow") return;
      const where = `${subject(args)}: ${path} ${statementLabel(statement, i)}`;
      if (statement.NotAction !== undefined) {
        report(`${where} is an Allow with NotAction ${show(statement.NotAction)}, which allows every other action of every service; use Action with the exact actions the principal calls.`);
      }
      for (const action of asList(statement.Action)) {
        if (typeof action === "string" && hasWildcard(action)) {
          report(`${where} allows the wildcard action "${action}"; list each action the principal calls by its full name (a wildcard only belongs in a Deny).`);
        }
      }
    });
  }
}

export const noWildcardAllow: ResourceValidationPolicy = {
  name: "iam-no-wildcard-allow",
  description: "IAM Allow statements name exact actions: no wildcard (`*`, `?`) in Action and no NotAction.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps: "Replace each wildcard with the actions the principal calls; express exceptions as Deny statements.",
  validateResource: forTypes(Object.keys(DOCUMENT_INPUTS), checkAllowStatements),
};

/** Inputs that attach managed policies, per resource type: one ARN or a list of them. */
const ATTACHMENT_INPUTS: Readonly<Record<string, string>> = {
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "policyArn",
  "aws:iam/userPolicyAttachment:UserPolicyAttachment": "policyArn",
  "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": "policyArn",
  "aws:iam/policyAttachment:PolicyAttachment": "policyArn",
  "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": "policyArns",
  "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive": "policyArns",
  "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive": "policyArns",
  "aws:iam/role:Role": "managedPolicyArns",
};

/**
 * Managed policies that grant a whole service or account: every `*FullAccess` policy, and the job-function
 * policies AdministratorAccess (`*` on `*`) and PowerUserAccess (everything but IAM and Organizations).
 */
function isFullAccess(policyArn: string): boolean {
  const name = policyArn.slice(policyArn.lastIndexOf("/") + 1);
  return /FullAccess$/.test(name) || name === "AdministratorAccess" || name === "PowerUserAccess";
}

export const noFullAccessPolicies: ResourceValidationPolicy = {
  name: "iam-no-full-access-managed-policies",
  description: "No role, user or group gets a full-access managed policy (`*FullAccess`, AdministratorAccess, PowerUserAccess).",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps: "Attach a policy (e.g. an aws.iam.RolePolicy) that grants only the actions and resources the principal uses.",
  validateResource: forTypes(Object.keys(ATTACHMENT_INPUTS), (props, args, report) => {
    const input = ATTACHMENT_INPUTS[args.type]!;
    const value: unknown = props[input];
    const arns = Array.isArray(value) ? value.map((arn, i) => ({ arn, path: `${input}[${i}]` })) : [{ arn: value, path: input }];
    for (const { arn, path } of arns) {
      if (typeof arn === "string" && isFullAccess(arn)) {
        report(`${subject(args)}: ${path} "${arn}" is a full-access managed policy; attach a policy that grants only the actions and resources the principal uses.`);
      }
    }
  }),
};

/** The policy's configuration (`--policy-pack-config`): the boundary every role must carry. */
export interface RoleBoundaryConfig {
  /** The stack's `permissionsBoundaryArn`; unset, the stack policy below still keeps the roles alike. */
  permissionsBoundaryArn?: string;
}

const ROLE = "aws:iam/role:Role";

/**
 * Every role carries the permissions boundary (deploy/: the deploy roles may create roles only with it):
 * the one configured for the pack, and without configuration the same one on every role of the stack, so
 * a role declared outside the pipeline's components (which the stack's transformation bounds) is caught.
 */
export const rolePermissionsBoundary: ResourceValidationPolicy = {
  name: "iam-role-permissions-boundary",
  description: "Every IAM role carries the permissions boundary configured as permissionsBoundaryArn.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps: "Set the stack config batch-pipeline:permissionsBoundaryArn (every role of the pipeline then carries it), or give the role permissionsBoundary.",
  configSchema: {
    properties: {
      permissionsBoundaryArn: { type: "string", description: "The permissions boundary every IAM role must carry (the stack's batch-pipeline:permissionsBoundaryArn)." },
    },
  },
  validateResource: forTypes([ROLE], (props, args, report) => {
    const required = args.getConfig<RoleBoundaryConfig>().permissionsBoundaryArn;
    if (!required) return;
    const boundary: unknown = props.permissionsBoundary;
    if (boundary !== required) {
      report(`${subject(args)}: permissionsBoundary is ${boundary === undefined ? "not set" : show(boundary)}, not ${show(required)}; a role without the boundary can be given any permission, so the deploy role may not create it.`);
    }
  }),
};

export const rolesShareABoundary: StackValidationPolicy = {
  name: "iam-roles-share-a-boundary",
  description: "When any IAM role of the stack carries a permissions boundary, every role carries the same one.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps: "Give every role the stack's permissionsBoundaryArn as permissionsBoundary.",
  validateStack: (args, report) => {
    const roles = args.resources.filter((r) => r.type === ROLE);
    const boundaries = [...new Set(roles.map((r) => r.props.permissionsBoundary).filter((b): b is string => typeof b === "string" && b !== ""))];
    if (boundaries.length === 0) return;
    for (const role of roles) {
      if (role.props.permissionsBoundary !== boundaries[0] || boundaries.length > 1) {
        report(`${subject(role)}: permissionsBoundary is ${show(role.props.permissionsBoundary ?? "not set")} while other roles of the stack carry ${boundaries.map(show).join(" or ")}; every role must carry the same boundary.`, role.urn);
      }
    }
  },
};

export const iamPolicies = [noWildcardAllow, noFullAccessPolicies, rolePermissionsBoundary, rolesShareABoundary];
