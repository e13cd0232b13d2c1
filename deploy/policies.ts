/**
 * The IAM roles GitHub Actions assumes through OIDC (no long-lived keys): the deploy role, which runs
 * `pulumi up` of the stacks (deploy.yml), and the preview role, which may only read what `pulumi preview`
 * reads (preview.yml), so a pull request that edits a workflow still cannot change the account. Every
 * name-scoped resource is scoped to the exact resource prefix of each stack (stack/naming.ts), so the
 * role cannot touch another stack's or team's roles, buckets or queues. `render.ts` writes the JSON.
 */
import { resourcePrefix } from "../stack/naming";
import { POWERTOOLS_LAYER_ACCOUNT, POWERTOOLS_LAYER_NAME, powertoolsLayerParameter } from "../stack/lambdaPackages";
import { policyDocument, type PolicyDocumentOf } from "../stack/policyDocument";
import { QUEUE_POLLER_ACTIONS } from "../stack/triggerRules";

/** What the documents depend on: the account, the repository, the state backend, the stacks. */
export interface RoleParams {
  /** The AWS account the stacks deploy to. */
  readonly accountId: string;
  /** `aws`, or `aws-us-gov` / `aws-cn`. */
  readonly partition: string;
  /** The GitHub repository, `owner/name`, whose workflows may assume the roles. */
  readonly repository: string;
  /** The Pulumi project (Pulumi.yaml `name`): with each stack name it makes the resource prefix. */
  readonly project: string;
  /** The stacks the deploy role may update (each has a Pulumi.<stack>.yaml). */
  readonly stacks: readonly string[];
  /** The stack deployed only after approval, through the GitHub environment of the same name. */
  readonly protectedStack: string;
  /** The S3 bucket of the Pulumi backend (`PULUMI_BACKEND_URL`, `s3://<bucket>/<prefix>`). */
  readonly stateBucket: string;
  /** The key prefix of the backend within the bucket; "" for the whole bucket. */
  readonly statePrefix: string;
  /** The KMS key of the stacks' `awskms://` secrets provider. */
  readonly secretsKeyArn: string;
  /**
   * A stack's own key, by stack, where it has one (`secretsKeyArn` otherwise). Pulumi's `awskms://` provider
   * sends no encryption context, so only separate keys keep one stack's role from decrypting another's secrets.
   */
  readonly secretsKeyArns?: Readonly<Record<string, string>>;
  /**
   * GitHub's immutable ids of the repository and its owner: with them the roles trust the ID-bearing subjects
   * (`repository_owner_id:<id>:repository_id:<id>:<context>`, the repository's OIDC subject template set to
   * include `repository_owner_id`, `repository_id` and `context`), which a renamed or re-created repository
   * of the same name cannot present.
   */
  readonly repositoryIds?: { readonly owner: string; readonly repository: string };
  /**
   * The workflow files the roles' tokens must come from (`job_workflow_ref`, with the subject template also
   * including `job_workflow_ref`): deploy.yml for deploy roles, preview.yml for preview roles, on `main`.
   */
  readonly jobWorkflowRef?: boolean;
  /**
   * The name of the permissions boundary policy ({@link permissionsBoundaryPolicy}), created once out of
   * band with the roles; every stack deployed with these roles sets `permissionsBoundaryArn` to its ARN.
   */
  readonly boundaryPolicyName: string;
  /**
   * Actions the stacks' job definitions grant in `policyStatements` beyond the pipeline's own (`sns:Publish`,
   * …): the boundary allows them too, or the jobs' roles could never use them.
   */
  readonly boundaryExtraActions?: readonly string[];
  /**
   * What each stack's config names outside its prefix (render.ts reads it from `Pulumi.<stack>.yaml`): the
   * parameters and secrets of its job definitions' `secrets`, their EFS file systems, their private ECR
   * repositories. The stack's boundary allows these and the stack's own names, nothing else of the account.
   */
  readonly stackResources?: Readonly<Record<string, StackResources>>;
}

/** ARNs a stack's config names (see {@link RoleParams.stackResources}). */
export interface StackResources {
  readonly parameters?: readonly string[];
  readonly secrets?: readonly string[];
  /** EFS file system ids (`fs-…`). */
  readonly fileSystems?: readonly string[];
  readonly repositories?: readonly string[];
  /** The Allow statements of its job definitions' `policyStatements`: the boundary allows exactly these (their actions on their resources). */
  readonly jobStatements?: readonly JobStatement[];
}

/** One `policyStatements` Allow of a job definition, as the stack's config gives it. */
export interface JobStatement {
  readonly Action: readonly string[];
  readonly Resource: readonly string[];
  readonly Condition?: Record<string, Record<string, string | string[]>>;
}

export interface Statement {
  Sid: string;
  Effect: "Allow" | "Deny";
  Action: string[];
  Resource?: string[];
  Principal?: { Federated: string };
  Condition?: Record<string, Record<string, string | string[]>>;
}
export type PolicyDocument = PolicyDocumentOf<Statement>;

/** GitHub's OIDC issuer, as the IAM identity provider is named and as its condition keys begin. */
export const GITHUB_OIDC = "token.actions.githubusercontent.com";

/** The subject of a token of this repository in this context (GitHub's default template, or the ID-bearing one). */
function subject(p: RoleParams, context: string, workflow: string, ref: string): string {
  const repo = p.repositoryIds ? `repository_owner_id:${p.repositoryIds.owner}:repository_id:${p.repositoryIds.repository}` : `repo:${p.repository}`;
  return `${repo}:${context}${p.jobWorkflowRef ? `:job_workflow_ref:${p.repository}/.github/workflows/${workflow}@${ref}` : ""}`;
}

/** The subjects of the tokens each workflow job gets (GitHub's `sub` claim formats), per stack's role. */
export const subjects = {
  /**
   * deploy.yml: the protected stack's role only in its environment (a reviewer approved that job); every
   * other stack's only on pushes to main. Never an unprotected environment's subject: any branch's workflow
   * may name an environment without reviewers or branch rules, and its token then says `environment:<name>`.
   */
  deployOf: (p: RoleParams, stack: string) =>
    stack === p.protectedStack
      ? [subject(p, `environment:${stack}`, "deploy.yml", "refs/heads/main")]
      : [subject(p, "ref:refs/heads/main", "deploy.yml", "refs/heads/main")],
  /** preview.yml: jobs of pull_request events without an environment (their workflow file is the pull request's merge ref). */
  previewOf: (p: RoleParams, _stack: string) => [subject(p, "pull_request", "preview.yml", "refs/pull/*/merge")],
  /** Every deploy subject the roles accept (what deploy.yml's jobs present), in order. */
  deploy: (p: RoleParams) => [...new Set([...p.stacks.filter((s) => s !== p.protectedStack), p.protectedStack].flatMap((s) => subjects.deployOf(p, s).slice(0, 1)))],
  /** Every preview subject the roles accept. */
  preview: (p: RoleParams) => [...new Set(p.stacks.flatMap((s) => subjects.previewOf(p, s)))],
};

/** Services the deploy role may pass the stack's roles to: Batch (instances, jobs), ECS tasks, EC2, Lambda. */
export const PASSED_TO_SERVICES = ["batch.amazonaws.com", "ecs-tasks.amazonaws.com", "ec2.amazonaws.com", "lambda.amazonaws.com"];
/**
 * How the Spot Fleet role of the `spot` compute environment is named after the stack prefix: component
 * `<prefix>-spot` (infra/platform.ts) names it `<prefix>-spot-spot-fleet-role-<7 characters>`
 * (infra/computeEnvironment.ts; the prefix is at most 28 characters, so Pulumi autonames it in full).
 */
export const SPOT_FLEET_ROLE = "-spot-spot-fleet-role-";
/**
 * The tag every EC2 resource of a stack carries, with the stack's resource prefix as its value (contract/tags.ts
 * `TAG_KEYS.stack`, which deploy/ may not import; tests/deploy/roles.test.ts keeps the two equal).
 */
export const STACK_TAG = "pipeline:stack";
/** The EC2 resource types the program creates (launch templates and security groups; with `network.mode: new`, the network). */
const EC2_OWNED = ["launch-template", "security-group", "vpc", "subnet", "internet-gateway", "route-table", "elastic-ip", "natgateway"];
/** The calls that create them (CreateVpc apart: see Ec2CreateVpc). */
const EC2_CREATE = ["ec2:CreateLaunchTemplate", "ec2:CreateSecurityGroup", "ec2:CreateSubnet", "ec2:CreateInternetGateway", "ec2:CreateRouteTable", "ec2:AllocateAddress", "ec2:CreateNatGateway"];
/** Service-linked roles a first deploy may have to create: Batch's, and EC2 Spot's for the Spot environment. */
export const SERVICE_LINKED_ROLES = { "batch.amazonaws.com": "AWSServiceRoleForBatch", "spot.amazonaws.com": "AWSServiceRoleForEC2Spot" };
/** The AWS managed policies the stack attaches (the ECS agent's instance role, the Spot Fleet role). */
export const ATTACHED_AWS_POLICIES = ["service-role/AmazonEC2ContainerServiceforEC2Role", "service-role/AmazonEC2SpotFleetTaggingRole"];

/** The ARNs of {@link ATTACHED_AWS_POLICIES} in the account's partition. */
const attachedPolicyArns = (p: RoleParams): string[] => ATTACHED_AWS_POLICIES.map((name) => `arn:${p.partition}:iam::aws:policy/${name}`);

/** One ARN per stack prefix of a regional service's resource, in any region of the account. */
const regionalArns = (p: RoleParams, prefixes: readonly string[], service: string, resource: (prefix: string) => string) =>
  prefixes.map((x) => `arn:${p.partition}:${service}:*:${p.accountId}:${resource(x)}`);

/** Every EC2 resource of a type in the account: EC2 ids are generated, so tags, not ARNs, name the stack's. */
const ec2Arn = (p: RoleParams, type: string) => `arn:${p.partition}:ec2:*:${p.accountId}:${type}/*`;

/** The trust policy of a role that GitHub workflows with these token subjects may assume. */
export function githubOidcTrust(p: RoleParams, sub: readonly string[]): PolicyDocument {
  return policyDocument<Statement>([
    {
      Sid: "GitHubActions",
      Effect: "Allow",
      Principal: { Federated: `arn:${p.partition}:iam::${p.accountId}:oidc-provider/${GITHUB_OIDC}` },
      Action: ["sts:AssumeRoleWithWebIdentity"],
      // StringLike only where a subject has a wildcard (a pull request's merge ref): `*` matches within it.
      Condition: sub.some((x) => x.includes("*"))
        ? { StringEquals: { [`${GITHUB_OIDC}:aud`]: "sts.amazonaws.com" }, StringLike: { [`${GITHUB_OIDC}:sub`]: [...sub] } }
        : { StringEquals: { [`${GITHUB_OIDC}:aud`]: "sts.amazonaws.com", [`${GITHUB_OIDC}:sub`]: [...sub] } },
    },
  ]);
}

const statement = (Sid: string, Action: string[], Resource: string[], Condition?: Statement["Condition"]): Statement => ({
  Sid,
  Effect: "Allow",
  Action,
  Resource,
  ...(Condition ? { Condition } : {}),
});
const deny = (Sid: string, Action: string[], Resource: string[], Condition?: Statement["Condition"]): Statement => ({ ...statement(Sid, Action, Resource, Condition), Effect: "Deny" });

/** A stack's secrets key. */
export const secretsKeyOf = (p: RoleParams, stack: string) => p.secretsKeyArns?.[stack] ?? p.secretsKeyArn;
/** Every secrets key the roles were rendered with (every stack's, whichever stacks `p` holds). */
const allSecretsKeys = (p: RoleParams) => [...new Set([p.secretsKeyArn, ...Object.values(p.secretsKeyArns ?? {})])].sort();

/** The ARN of the permissions boundary every role of one stack carries (one per stack: `<boundaryPolicyName>-<stack>`). */
export const boundaryArnOf = (p: RoleParams, stack: string) => `arn:${p.partition}:iam::${p.accountId}:policy/${p.boundaryPolicyName}-${stack}`;
/** The boundaries of the stacks of `p` (one per stack). */
const boundaryArns = (p: RoleParams) => p.stacks.map((stack) => boundaryArnOf(p, stack));

/** Writes of the boundary policy itself. */
const POLICY_WRITES = ["iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:TagPolicy", "iam:UntagPolicy"];
/** Writes of an existing managed policy's document. */
const POLICY_VERSION_WRITES = ["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicyVersion"];
/** Resource policies that could open the stacks' data or functions to others (wildcards: a Deny only). */
const RESOURCE_POLICY_WRITES = [
  "s3:*Policy", "s3:*Acl", "s3:Put*PublicAccessBlock", "logs:*ResourcePolicy", "ecr:SetRepositoryPolicy", "sqs:AddPermission", "sqs:SetQueueAttributes",
  "sns:AddPermission", "sns:SetTopicAttributes", "lambda:AddPermission", "kms:CreateGrant", "kms:PutKeyPolicy", "secretsmanager:PutResourcePolicy",
];

/**
 * The permissions boundary of every role the stacks create (one per stack, `<boundaryPolicyName>-<stack>`,
 * given to the stack as `permissionsBoundaryArn`): the
 * most any of them can ever do, whatever policies the deploy role puts on them. The deploy role may create a
 * role with it and put any inline policy on it, and Lambda or Batch can run code as that role, so the boundary,
 * not the rendered role policies, is what holds one stack away from another: every grant is the stack's own.
 * Jobs are submitted only to its queues and definitions, tagged only with its stack tag and terminated only when
 * they carry it (or are array children, which Batch never tags); secrets and parameters only those its config
 * names (`stackResources`) or named `<prefix>/…`, KMS only on their behalf (`kms:ViaService`) and never any
 * stack's Pulumi secrets key; logs, images, ECS clusters, file systems only its own; instances launched and
 * ended only with its instance profile, in its security groups, tagged on launch with its tag. It allows what
 * the pipeline's roles call (tests/deploy/roles.test.ts and boundaryWorkloads.test.ts simulate every statement
 * of the stack's role policies through it), what the AWS managed policies of the instance and Spot Fleet roles
 * call on the stack's resources, its job definitions' `policyStatements` as its config writes them (their
 * actions on their resources), and any `boundaryExtraActions` (on any resource: the user names them); and it denies every IAM write, role assumption and resource-policy
 * write, whatever an identity policy says. The deploy role may create and change roles only with it attached and
 * may never change it, so nothing it deploys can leave it (tests/deploy/boundaryStacks.test.ts).
 */
export function permissionsBoundaryPolicy(p: RoleParams): PolicyDocument {
  const prefixes = p.stacks.map((s) => resourcePrefix(p.project, s));
  const regional = (service: string, resource: (prefix: string) => string) => regionalArns(p, prefixes, service, resource);
  const named = (kind: Exclude<keyof StackResources, "jobStatements">) => [...new Set(p.stacks.flatMap((s) => p.stackResources?.[s]?.[kind] ?? []))].sort();
  const stackTag = { StringEquals: { [`aws:RequestTag/${STACK_TAG}`]: prefixes } };
  const ownJobs = { StringEquals: { [`aws:ResourceTag/${STACK_TAG}`]: prefixes } };
  // The instances of the stack's EC2 compute environments: launched with its instance profile (infra/computeEnvironment.ts).
  const ownProfile = { ArnLike: { "ec2:InstanceProfile": prefixes.map((x) => `arn:${p.partition}:iam::${p.accountId}:instance-profile/${x}-*`) } };
  const ec2 = (type: string) => ec2Arn(p, type);
  const fileSystems = named("fileSystems").map((id) => `arn:${p.partition}:elasticfilesystem:*:${p.accountId}:file-system/${id}`);
  const extra = [...new Set(p.boundaryExtraActions ?? [])].sort();
  return policyDocument([
    // Process jobs read and write their stack's input bucket (infra/pipeline.ts processJobStatements).
    statement("StackData", ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListBucket"],
      prefixes.flatMap((x) => [`arn:${p.partition}:s3:::${x}-*`, `arn:${p.partition}:s3:::${x}-*/*`])),
    // The trigger and the start job submit to the stack's queues, definitions only (the job they create is `job/*`),
    // tag only with the stack's tag, and terminate only the stack's jobs (by tag) and array children (which
    // Batch never tags: `job/<parent>:<index>`, the start job's rollback of an earlier attempt).
    statement("SubmitJobs", ["batch:SubmitJob"], [...regional("batch", (x) => `job-queue/${x}-*`), ...regional("batch", (x) => `job-definition/${x}-*`), `arn:${p.partition}:batch:*:${p.accountId}:job/*`]),
    statement("TagJobs", ["batch:TagResource"], [...regional("batch", (x) => `job-queue/${x}-*`), ...regional("batch", (x) => `job-definition/${x}-*`), `arn:${p.partition}:batch:*:${p.accountId}:job/*`], stackTag),
    // What IAM lets no resource narrow: finding and following jobs, the registry login, the ECS agent's and
    // Spot Fleet's lookups.
    statement("AccountWide", [
      "batch:ListJobs", "batch:DescribeJobs", "ecr:GetAuthorizationToken", "ecs:DiscoverPollEndpoint",
      "ec2:DescribeTags", "ec2:DescribeImages", "ec2:DescribeSubnets", "ec2:DescribeInstanceStatus",
    ], ["*"]),
    statement("TerminateOwnJobs", ["batch:TerminateJob"], [`arn:${p.partition}:batch:*:${p.accountId}:job/*`], ownJobs),
    statement("TerminateArrayChildren", ["batch:TerminateJob"], [`arn:${p.partition}:batch:*:${p.accountId}:job/*:*`]),
    statement("Idempotency", ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"], regional("dynamodb", (x) => `table/${x}-*`)),
    // The trigger's role sends to the dead-letter queue (async invocation's on-failure destination) or, with
    // trigger.delivery: queue, its event source mapping polls the trigger's queue: the stack's own queues. One
    // statement: the boundary must fit a managed policy with what a stack's config adds.
    statement("Queues", ["sqs:SendMessage", ...QUEUE_POLLER_ACTIONS], regional("sqs", (x) => `${x}-*`)),
    // The stack's own log groups: its job definitions' (`/aws/batch/<prefix>-…`) and the trigger's (`/aws/lambda/<prefix>-…`).
    statement("Logs", ["logs:CreateLogStream", "logs:PutLogEvents"], ["batch", "lambda"].flatMap((source) => regional("logs", (x) => `log-group:/aws/${source}/${x}-*`))),
    // Image pulls (execution and instance roles): the stack's repositories and those its config's images name.
    statement("Images", ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"], [...regional("ecr", (x) => `repository/${x}-*`), ...named("repositories")]),
    // Secrets the stack's config names (execution roles), and those named after the stack (`<prefix>/…`);
    // KMS only on their behalf (a customer managed key of a secret or SecureString parameter).
    statement("Parameters", ["ssm:GetParameters"], [...regional("ssm", (x) => `parameter/${x}/*`), ...named("parameters")]),
    statement("Secrets", ["secretsmanager:GetSecretValue"], [...regional("secretsmanager", (x) => `secret:${x}/*`), ...named("secrets")]),
    statement("DecryptForSecrets", ["kms:Decrypt"], ["*"], { StringLike: { "kms:ViaService": ["secretsmanager.*.amazonaws.com", "ssm.*.amazonaws.com"] } }),
    ...(fileSystems.length > 0 ? [statement("FileSystems", ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite", "elasticfilesystem:ClientRootAccess"], fileSystems)] : []),
    // AmazonEC2ContainerServiceforEC2Role (the instance roles' ECS agent), on the ECS clusters Batch makes for
    // the stack's compute environments (`<environment name>_Batch_<uuid>`) and their container instances.
    // (Each action applies to the resource type it takes: the cluster, or a container instance of it.)
    statement("EcsAgent", [
      "ecs:DeregisterContainerInstance", "ecs:RegisterContainerInstance", "ecs:SubmitAttachmentStateChanges", "ecs:SubmitContainerStateChange",
      "ecs:SubmitTaskStateChange", "ecs:Poll", "ecs:StartTelemetrySession", "ecs:UpdateContainerInstancesState", "ecs:TagResource",
    ], [...regional("ecs", (x) => `cluster/${x}-*`), ...regional("ecs", (x) => `container-instance/${x}-*`)]),
    // AmazonEC2SpotFleetTaggingRole (BEST_FIT Spot): launch the stack's instances (its instance profile, its
    // security groups), tag them as they launch with its tag, and end only its own.
    statement("OwnInstances", ["ec2:RunInstances", "ec2:TerminateInstances"], [ec2("instance")], ownProfile),
    statement("LaunchInOwnGroups", ["ec2:RunInstances", "ec2:RequestSpotInstances"], [ec2("security-group")], { StringEquals: { [`aws:ResourceTag/${STACK_TAG}`]: prefixes } }),
    statement("LaunchWith", ["ec2:RunInstances", "ec2:RequestSpotInstances"], ["image", "subnet", "network-interface", "volume", "launch-template", "snapshot", "spot-instances-request"].map((t) => (["image", "snapshot"].includes(t) ? `arn:${p.partition}:ec2:*::${t}/*` : ec2(t)))),
    statement("TagOnLaunch", ["ec2:CreateTags"], ["instance", "volume", "spot-instances-request"].map(ec2), {
      StringEquals: { "ec2:CreateAction": ["RunInstances", "RequestSpotInstances"], [`aws:RequestTag/${STACK_TAG}`]: prefixes },
    }),
    statement("PassInstanceRoles", ["iam:PassRole"], prefixes.map((x) => `arn:${p.partition}:iam::${p.accountId}:role/${x}-*`), { StringEquals: { "iam:PassedToService": "ec2.amazonaws.com" } }),
    // The job definitions' own policyStatements, as their configs give them (their resources, their conditions).
    ...[...new Set(p.stacks.flatMap((st) => p.stackResources?.[st]?.jobStatements ?? []).map((j) => JSON.stringify(j)))].map((text, i) => {
      const j = JSON.parse(text) as JobStatement;
      return statement(`JobPolicyStatement${i}`, [...j.Action], [...j.Resource], j.Condition);
    }),
    ...(extra.length > 0 ? [statement("JobPolicyStatements", extra, ["*"])] : []),
    // Every stack's Pulumi secrets key (the state's secrets), whatever a key policy or identity policy says.
    deny("NeverStateKeys", ["kms:*"], allSecretsKeys(p)),
    // Nothing of IAM or STS but passing the instance roles to EC2 (above): no identity or policy write (the
    // boundary's own included), no role assumption. A request without iam:PassedToService matches StringNotEquals.
    deny("NoIdentityWrites", ["iam:*", "sts:*"], ["*"], { StringNotEquals: { "iam:PassedToService": "ec2.amazonaws.com" } }),
    deny("NoResourcePolicyWrites", RESOURCE_POLICY_WRITES, ["*"]),
  ]);
}

/**
 * The deploy role's guards: explicit Denies, so no other policy attached to the role (now or later) can
 * reopen them. A role of the account may be created, changed or given policies only with the boundary
 * attached (`iam:PermissionsBoundary`, which IAM evaluates on the role's boundary, or on the boundary a
 * CreateRole or PutRolePermissionsBoundary sets); no boundary may be removed; the boundary policy is never
 * written; no managed policy is rewritten (no policy version: the operator policy people hold is replaced
 * instead, infra/operator.ts); and no trust policy is rewritten in place (a trust change replaces the role,
 * which the program asks for with `replaceOnChanges`: IAM cannot read a trust document's principals, so a
 * rewrite is refused outright).
 */
function guardStatements(p: RoleParams): Statement[] {
  return [
    deny("OnlyBoundedRoles", [
      "iam:CreateRole", "iam:UpdateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:PutRolePermissionsBoundary",
    ], ["*"], { StringNotEquals: { "iam:PermissionsBoundary": boundaryArns(p) } }),
    deny("NeverUnbound", ["iam:DeleteRolePermissionsBoundary", "iam:UpdateAssumeRolePolicy"], ["*"]),
    deny("NeverTheBoundary", POLICY_WRITES, boundaryArns(p)),
    // No managed policy is ever rewritten: people hold the operator policy (infra/operator.ts replaces it instead).
    deny("NoPolicyRewrites", POLICY_VERSION_WRITES, ["*"]),
  ];
}


/**
 * What both roles do with the Pulumi state and secrets of their stacks: the deploy role writes, the preview
 * role reads. The DIY backend keeps a stack in `.pulumi/stacks/<project>/<stack>.json` (and `.bak`),
 * `.pulumi/history/<project>/<stack>/`, `.pulumi/backups/<project>/<stack>/` and its lock in
 * `.pulumi/locks/organization/<project>/<stack>/`, so each role reaches its own stacks' objects only
 * (and reads the backend's `meta.yaml`). A preview of the protected stack decrypts nothing: a pull request
 * can change the preview workflow, so prod's secrets never reach one.
 */
function stateStatements(p: RoleParams, write: boolean): Statement[] {
  const bucket = `arn:${p.partition}:s3:::${p.stateBucket}`;
  const root = `${bucket}/${p.statePrefix}.pulumi`;
  const objects = p.stacks.flatMap((stack) => [
    `${root}/stacks/${p.project}/${stack}.json*`,
    `${root}/history/${p.project}/${stack}/*`,
    `${root}/backups/${p.project}/${stack}/*`,
    `${root}/locks/organization/${p.project}/${stack}/*`,
  ]);
  const keys = [...new Set(p.stacks.filter((stack) => write || stack !== p.protectedStack).map((stack) => secretsKeyOf(p, stack)))];
  return [
    statement("StateList", ["s3:ListBucket"], [bucket]),
    statement("StateMeta", ["s3:GetObject"], [`${root}/meta.yaml`]),
    statement("StateObjects", write ? ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"] : ["s3:GetObject"], objects),
    ...(keys.length > 0 ? [statement("Secrets", write ? ["kms:Encrypt", "kms:Decrypt"] : ["kms:Decrypt"], keys)] : []),
  ];
}

/** What the program reads while it runs, in a preview as in an update (its provider function calls). */
function lookupStatements(p: RoleParams): Statement[] {
  return [
    // aws.ec2.getVpc / getSubnets (network.mode default), awsx's availability zones (mode new).
    statement("NetworkLookups", ["ec2:DescribeVpcs", "ec2:DescribeSubnets", "ec2:DescribeAvailabilityZones"], ["*"]),
    // AWS's public parameter with the pinned Powertools layer's ARN (infra/pipeline.ts).
    statement("PowertoolsParameter", ["ssm:GetParameter"], [`arn:${p.partition}:ssm:*:*:parameter${powertoolsLayerParameter("*")}`]),
    // awsx.ecr.Image logs Docker in to the registry.
    statement("RegistryLogin", ["ecr:GetAuthorizationToken"], ["*"]),
  ];
}

/** The preview role: state and secrets read, the program's lookups, nothing that changes the account. */
export function previewRolePolicy(p: RoleParams): PolicyDocument {
  return policyDocument([...stateStatements(p, false), ...lookupStatements(p)]);
}

/**
 * IAM's size limit of one managed policy, in characters without whitespace ("IAM and AWS STS quotas");
 * a role's inline policies share 10,240, so the deploy role's permissions are three managed policies.
 */
export const MANAGED_POLICY_MAX_CHARS = 6144;

/** The themes the deploy role's permissions are grouped in, each one managed policy (or one per stack, see below). */
const THEMES = {
  "state-iam": ["OnlyBoundedRoles", "NeverUnbound", "NeverTheBoundary", "StateList", "StateMeta", "StateObjects", "Secrets", "NetworkLookups", "PowertoolsParameter", "RegistryLogin", "BoundedRoles", "Roles", "AttachAwsManagedPolicies", "DetachAwsManagedPolicies", "PassRolesToTheirServices", "PassSpotFleetRole", "InstanceProfiles", "OperatorPolicy", "ServiceLinkedRoles"],
  compute: ["Batch", "BatchDescribe", "Ec2CreateTagged", "Ec2CreateVpc", "Ec2InOwnVpc", "Ec2SecurityGroupInAnyVpc", "Ec2TagOnCreate", "Ec2OwnResources", "Ec2Retag", "Ec2SecurityGroupRules", "Ec2Describe"],
} as const;

/** A policy document's size as IAM counts it: characters without whitespace outside strings. */
export const policyChars = (doc: PolicyDocument) => JSON.stringify(doc).length;

/**
 * The deploy role's managed policies: what `pulumi up` of these stacks creates, reads, updates and deletes,
 * by theme (`state-iam`, `compute`, `services`). Each stack adds its own resource ARNs, so a theme that no
 * longer fits in {@link MANAGED_POLICY_MAX_CHARS} becomes one policy per stack (`services-dev`,
 * `services-prod`, …; a role takes 10 managed policies by default).
 * @throws when even one stack's part of a theme is over the limit
 */
export function deployRolePolicies(p: RoleParams): Record<string, PolicyDocument> {
  const themeOf = (sid: string) => (Object.entries(THEMES).find(([, sids]) => (sids as readonly string[]).includes(sid))?.[0] ?? "services");
  const documents = (stacks: readonly string[]): Record<string, PolicyDocument> => {
    const byTheme: Record<string, Statement[]> = { "state-iam": [], compute: [], services: [] };
    for (const statement of deployStatements({ ...p, stacks })) byTheme[themeOf(statement.Sid)]!.push(statement);
    return Object.fromEntries(Object.entries(byTheme).map(([theme, Statement]) => [theme, policyDocument(Statement)]));
  };
  const together = documents(p.stacks);
  const out: Record<string, PolicyDocument> = {};
  for (const [theme, doc] of Object.entries(together)) {
    if (policyChars(doc) <= MANAGED_POLICY_MAX_CHARS) {
      out[theme] = doc;
      continue;
    }
    for (const stack of p.stacks) {
      const part = documents([stack])[theme]!;
      if (policyChars(part) > MANAGED_POLICY_MAX_CHARS) {
        throw new Error(`deploy role policy ${theme}-${stack} is ${policyChars(part)} characters, over IAM's ${MANAGED_POLICY_MAX_CHARS} for a managed policy`);
      }
      out[`${theme}-${stack}`] = part;
    }
  }
  return out;
}

function deployStatements(p: RoleParams): Statement[] {
  const prefixes = p.stacks.map((s) => resourcePrefix(p.project, s));
  const arns = (format: (prefix: string) => string) => prefixes.map(format);
  const iam = (kind: string) => arns((x) => `arn:${p.partition}:iam::${p.accountId}:${kind}/${x}-*`);
  const regional = (service: string, resource: (prefix: string) => string) => regionalArns(p, prefixes, service, resource);
  const ec2 = (type: string) => ec2Arn(p, type);
  const functionArns = regional("lambda", (x) => `function:${x}-*`);
  const eventSourceMappings = `arn:${p.partition}:lambda:*:${p.accountId}:event-source-mapping:*`;
  return [
    ...guardStatements(p),
    ...stateStatements(p, true),
    ...lookupStatements(p),
    // Only with the boundary (and guardStatements deny it otherwise): the role, its policies, its boundary.
    statement("BoundedRoles", ["iam:CreateRole", "iam:UpdateRole", "iam:PutRolePolicy", "iam:PutRolePermissionsBoundary"], iam("role"), {
      StringEquals: { "iam:PermissionsBoundary": boundaryArns(p) },
    }),
    // Taking permissions away needs no boundary: a role created before it can still be emptied and deleted
    // (its replacement, with the boundary, is created first).
    statement("Roles", [
      "iam:GetRole", "iam:DeleteRole", "iam:DeleteRolePolicy", "iam:UpdateRoleDescription", "iam:TagRole", "iam:UntagRole", "iam:ListRoleTags",
      "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole", "iam:GetRolePolicy",
    ], iam("role")),
    statement("AttachAwsManagedPolicies", ["iam:AttachRolePolicy"], iam("role"), {
      ArnEquals: { "iam:PolicyARN": attachedPolicyArns(p) },
      StringEquals: { "iam:PermissionsBoundary": boundaryArns(p) },
    }),
    statement("DetachAwsManagedPolicies", ["iam:DetachRolePolicy"], iam("role"), {
      ArnEquals: { "iam:PolicyARN": attachedPolicyArns(p) },
    }),
    statement("PassRolesToTheirServices", ["iam:PassRole"], iam("role"), { StringEquals: { "iam:PassedToService": PASSED_TO_SERVICES } }),
    // BEST_FIT Spot environments hand Batch a Spot Fleet role, which Batch passes on to Spot Fleet: only
    // that role (the `spot` environment's, infra/platform.ts and infra/computeEnvironment.ts) goes there.
    statement("PassSpotFleetRole", ["iam:PassRole"], arns((x) => `arn:${p.partition}:iam::${p.accountId}:role/${x}${SPOT_FLEET_ROLE}*`), {
      StringEquals: { "iam:PassedToService": "spotfleet.amazonaws.com" },
    }),
    statement("InstanceProfiles", [
      "iam:CreateInstanceProfile", "iam:GetInstanceProfile", "iam:DeleteInstanceProfile", "iam:AddRoleToInstanceProfile",
      "iam:RemoveRoleFromInstanceProfile", "iam:TagInstanceProfile", "iam:UntagInstanceProfile", "iam:ListInstanceProfileTags",
    ], iam("instance-profile")),
    statement("OperatorPolicy", [
      "iam:CreatePolicy", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyVersions", "iam:TagPolicy", "iam:UntagPolicy", "iam:ListPolicyTags",
    ], iam("policy")),
    statement("ServiceLinkedRoles", ["iam:CreateServiceLinkedRole"],
      Object.entries(SERVICE_LINKED_ROLES).map(([service, role]) => `arn:${p.partition}:iam::${p.accountId}:role/aws-service-role/${service}/${role}`),
      { StringEquals: { "iam:AWSServiceName": Object.keys(SERVICE_LINKED_ROLES) } },
    ),
    statement("Batch", [
      "batch:CreateComputeEnvironment", "batch:UpdateComputeEnvironment", "batch:DeleteComputeEnvironment",
      "batch:CreateJobQueue", "batch:UpdateJobQueue", "batch:DeleteJobQueue",
      "batch:RegisterJobDefinition", "batch:DeregisterJobDefinition",
      "batch:TagResource", "batch:UntagResource", "batch:ListTagsForResource",
    ], [
      ...regional("batch", (x) => `compute-environment/${x}-*`),
      ...regional("batch", (x) => `job-queue/${x}-*`),
      ...regional("batch", (x) => `job-definition/${x}-*`),
    ]),
    statement("BatchDescribe", ["batch:DescribeComputeEnvironments", "batch:DescribeJobQueues", "batch:DescribeJobDefinitions"], ["*"]),
    // EC2 names its resources by generated ids (lt-…, sg-…, vpc-…), so they are scoped by the stack tag every
    // EC2 resource of the program carries from its creation (infra/computeEnvironment.ts, infra/network.ts):
    // created only with it (aws:RequestTag, tagged in the create call: ec2:CreateAction), changed and deleted
    // only when they carry it (aws:ResourceTag). Another team's launch templates, groups and network are out of reach.
    statement("Ec2CreateTagged", EC2_CREATE, EC2_OWNED.filter((t) => t !== "vpc").map(ec2), { StringEquals: { [`aws:RequestTag/${STACK_TAG}`]: prefixes } }),
    statement("Ec2CreateVpc", ["ec2:CreateVpc"], [ec2("vpc")], { StringEquals: { [`aws:RequestTag/${STACK_TAG}`]: prefixes } }),
    // Subnets, route tables, gateways go only into the stack's own VPC; a security group into any (the default
    // VPC or an existing one carries no stack tag).
    statement("Ec2InOwnVpc", ["ec2:CreateSubnet", "ec2:CreateRouteTable", "ec2:AttachInternetGateway", "ec2:DetachInternetGateway", "ec2:CreateNatGateway"], [ec2("vpc")], {
      StringEquals: { [`aws:ResourceTag/${STACK_TAG}`]: prefixes },
    }),
    statement("Ec2SecurityGroupInAnyVpc", ["ec2:CreateSecurityGroup"], [ec2("vpc")]),
    statement("Ec2TagOnCreate", ["ec2:CreateTags"], EC2_OWNED.map(ec2), { StringEquals: { "ec2:CreateAction": EC2_CREATE.map((a) => a.slice(4)).concat("CreateVpc") } }),
    statement("Ec2OwnResources", [
      "ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate", "ec2:DeleteLaunchTemplate",
      "ec2:DeleteSecurityGroup", "ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupEgress", "ec2:DeleteTags",
      "ec2:DeleteVpc", "ec2:ModifyVpcAttribute", "ec2:DeleteSubnet", "ec2:ModifySubnetAttribute",
      "ec2:DeleteInternetGateway", "ec2:AttachInternetGateway", "ec2:DetachInternetGateway",
      "ec2:DeleteRouteTable", "ec2:AssociateRouteTable", "ec2:DisassociateRouteTable", "ec2:CreateRoute", "ec2:DeleteRoute", "ec2:ReplaceRoute",
      "ec2:ReleaseAddress", "ec2:DisassociateAddress", "ec2:DeleteNatGateway",
    ], EC2_OWNED.map(ec2), { StringEquals: { [`aws:ResourceTag/${STACK_TAG}`]: prefixes } }),
    // Retagging its own resources (a tag changed in the config) never sets another stack's tag on them: the stack
    // tag, when the request carries it, is its own (a tag update without it changes other tags only).
    statement("Ec2Retag", ["ec2:CreateTags"], EC2_OWNED.map(ec2), {
      StringEquals: { [`aws:ResourceTag/${STACK_TAG}`]: prefixes },
      StringEqualsIfExists: { [`aws:RequestTag/${STACK_TAG}`]: prefixes },
    }),
    // The rule an egress change adds or removes is a resource of its own, untagged; its group must be the stack's (above).
    statement("Ec2SecurityGroupRules", ["ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupEgress"], [ec2("security-group-rule")]),
    statement("Ec2Describe", [
      "ec2:DescribeLaunchTemplates", "ec2:DescribeLaunchTemplateVersions", "ec2:DescribeSecurityGroups", "ec2:DescribeSecurityGroupRules",
      "ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcAttribute", "ec2:DescribeInternetGateways", "ec2:DescribeRouteTables",
      "ec2:DescribeAddresses", "ec2:DescribeAddressesAttribute", "ec2:DescribeNatGateways", "ec2:DescribeNetworkAcls", "ec2:DescribeAccountAttributes",
    ], ["*"]),
    statement("InputBucket", [
      "s3:CreateBucket", "s3:DeleteBucket", "s3:ListBucket", "s3:PutBucketTagging", "s3:GetBucketTagging",
      "s3:PutBucketPublicAccessBlock", "s3:GetBucketPublicAccessBlock", "s3:PutBucketOwnershipControls", "s3:GetBucketOwnershipControls",
      "s3:PutEncryptionConfiguration", "s3:GetEncryptionConfiguration", "s3:PutBucketVersioning", "s3:GetBucketVersioning",
      "s3:PutBucketPolicy", "s3:GetBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutLifecycleConfiguration", "s3:GetLifecycleConfiguration",
      "s3:PutBucketNotification", "s3:GetBucketNotification",
      // What the provider reads back of every bucket, whether or not the program sets it.
      "s3:GetBucketAcl", "s3:GetBucketCORS", "s3:GetBucketWebsite", "s3:GetAccelerateConfiguration", "s3:GetBucketRequestPayment",
      "s3:GetBucketLogging", "s3:GetReplicationConfiguration", "s3:GetBucketObjectLockConfiguration",
    ], arns((x) => `arn:${p.partition}:s3:::${x}-*`)),
    statement("IdempotencyTable", [
      "dynamodb:CreateTable", "dynamodb:DescribeTable", "dynamodb:UpdateTable", "dynamodb:DeleteTable", "dynamodb:DescribeTimeToLive",
      "dynamodb:UpdateTimeToLive", "dynamodb:DescribeContinuousBackups", "dynamodb:UpdateContinuousBackups",
      "dynamodb:TagResource", "dynamodb:UntagResource", "dynamodb:ListTagsOfResource",
    ], regional("dynamodb", (x) => `table/${x}-*`)),
    statement("TriggerFunction", [
      "lambda:CreateFunction", "lambda:GetFunction", "lambda:GetFunctionConfiguration", "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration",
      "lambda:DeleteFunction", "lambda:ListVersionsByFunction", "lambda:GetFunctionCodeSigningConfig", "lambda:PutFunctionConcurrency",
      "lambda:DeleteFunctionConcurrency", "lambda:TagResource", "lambda:UntagResource", "lambda:ListTags", "lambda:AddPermission",
      "lambda:RemovePermission", "lambda:GetPolicy", "lambda:PutFunctionEventInvokeConfig", "lambda:UpdateFunctionEventInvokeConfig",
      "lambda:GetFunctionEventInvokeConfig", "lambda:DeleteFunctionEventInvokeConfig", "lambda:GetRuntimeManagementConfig",
    ], regional("lambda", (x) => `function:${x}-*`)),
    // CreateFunction with a layer needs the layer version; AWS publishes Powertools' from its own account
    // (stack/lambdaPackages.ts), and a layer of that name in any other account is someone else's code.
    statement("PowertoolsLayer", ["lambda:GetLayerVersion"], [`arn:${p.partition}:lambda:*:${POWERTOOLS_LAYER_ACCOUNT}:layer:${POWERTOOLS_LAYER_NAME}:*`]),
    // The dead-letter queue and (trigger.delivery: queue) the trigger's queue, with its queue policy (SetQueueAttributes).
    statement("Queues", [
      "sqs:CreateQueue", "sqs:GetQueueAttributes", "sqs:SetQueueAttributes", "sqs:DeleteQueue", "sqs:TagQueue", "sqs:UntagQueue",
      "sqs:ListQueueTags", "sqs:GetQueueUrl",
    ], regional("sqs", (x) => `${x}-*`)),
    // trigger.delivery: queue. A mapping's ARN holds a generated UUID, so mappings are scoped by the function they
    // invoke (lambda:FunctionArn, which Lambda evaluates for these calls): only the stack's own functions.
    statement("QueueMappingCreate", ["lambda:CreateEventSourceMapping"], ["*"], { ArnLike: { "lambda:FunctionArn": functionArns } }),
    statement("QueueMappings", ["lambda:GetEventSourceMapping", "lambda:UpdateEventSourceMapping", "lambda:DeleteEventSourceMapping"], [eventSourceMappings], {
      ArnLike: { "lambda:FunctionArn": functionArns },
    }),
    // Their tags (the stack's tags): TagResource and ListTags take no lambda:FunctionArn, and a new mapping carries
    // no tag yet to scope on, so these reach any mapping of the account (README, deploy roles: what cannot be scoped).
    statement("QueueMappingTags", ["lambda:TagResource", "lambda:UntagResource", "lambda:ListTags"], [eventSourceMappings]),
    statement("FailureTopic", [
      "sns:CreateTopic", "sns:DeleteTopic", "sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:TagResource", "sns:UntagResource",
      "sns:ListTagsForResource", "sns:Subscribe",
    ], regional("sns", (x) => `${x}-*`)),
    // The program grants only S3 the right to invoke the trigger (infra/trigger.ts) and subscribes only an
    // email address to the failure topic (infra/observability.ts): a function open to any principal, or the
    // failure topic delivered to an outside HTTPS endpoint or queue, is never a deploy's doing.
    deny("TriggerInvokedByS3Only", ["lambda:AddPermission"], ["*"], { StringNotEquals: { "lambda:Principal": "s3.amazonaws.com" } }),
    deny("EmailSubscriptionsOnly", ["sns:Subscribe"], ["*"], { StringNotEquals: { "sns:Protocol": "email" } }),
    statement("EventRules", [
      "events:PutRule", "events:DescribeRule", "events:DeleteRule", "events:PutTargets", "events:RemoveTargets", "events:ListTargetsByRule",
      "events:TagResource", "events:UntagResource", "events:ListTagsForResource",
    ], regional("events", (x) => `rule/${x}-*`)),
    // The rules' targets are the job-state log group and the failure topic (infra/observability.ts), both in this
    // account: job states never go to another account's bus, queue or function (events:TargetArn lists them all).
    deny("TargetsInThisAccount", ["events:PutTargets"], ["*"], { "ForAnyValue:ArnNotLike": { "events:TargetArn": [`arn:${p.partition}:*:*:${p.accountId}:*`] } }),
    statement("LogGroups", [
      "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy",
      "logs:TagResource", "logs:UntagResource", "logs:ListTagsForResource",
    ], ["batch", "lambda", "events"].flatMap((source) => regional("logs", (x) => `log-group:/aws/${source}/${x}-*`))),
    statement("LogsAccountWide", ["logs:DescribeLogGroups", "logs:PutResourcePolicy", "logs:DeleteResourcePolicy", "logs:DescribeResourcePolicies"], ["*"]),
    statement("Alarms", [
      "cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms",
      "cloudwatch:TagResource", "cloudwatch:UntagResource", "cloudwatch:ListTagsForResource",
    ], regional("cloudwatch", (x) => `alarm:${x}-*`)),
    statement("OrchestratorRepository", [
      "ecr:CreateRepository", "ecr:DescribeRepositories", "ecr:DeleteRepository", "ecr:PutLifecyclePolicy", "ecr:GetLifecyclePolicy",
      "ecr:DeleteLifecyclePolicy", "ecr:TagResource", "ecr:UntagResource", "ecr:ListTagsForResource", "ecr:PutImageTagMutability",
      "ecr:PutImageScanningConfiguration",
      // Pushing the orchestrator image (awsx.ecr.Image).
      "ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage",
      "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:DescribeImages",
    ], regional("ecr", (x) => `repository/${x}-*`)),
  ];
}

/** One stack's roles: the deploy role (its managed policies and trust), the preview role, and the stack's boundary. */
export interface StackRoles {
  deployPolicies: Record<string, PolicyDocument>;
  deployTrust: PolicyDocument;
  previewPolicy: PolicyDocument;
  previewTrust: PolicyDocument;
  boundary: PolicyDocument;
}

/**
 * The roles of one stack: each deploy role holds only its own stack's resources, state, key and boundary, so
 * the dev job (or any workflow on main) cannot change prod, and the protected stack's role trusts only jobs
 * of its GitHub environment.
 */
export function stackRoles(p: RoleParams, stack: string): StackRoles {
  const one: RoleParams = { ...p, stacks: [stack] };
  return {
    deployPolicies: deployRolePolicies(one),
    deployTrust: githubOidcTrust(one, subjects.deployOf(p, stack)),
    previewPolicy: previewRolePolicy(one),
    previewTrust: githubOidcTrust(one, subjects.previewOf(p, stack)),
    boundary: boundaryWithinLimit(one, stack),
  };
}

function boundaryWithinLimit(p: RoleParams, stack: string): PolicyDocument {
  const boundary = permissionsBoundaryPolicy(p);
  if (policyChars(boundary) > MANAGED_POLICY_MAX_CHARS) {
    throw new Error(`permissions boundary of stack ${stack} is ${policyChars(boundary)} characters, over IAM's ${MANAGED_POLICY_MAX_CHARS} for a managed policy: name fewer secrets, parameters, file systems or repositories in its config (secrets named ${resourcePrefix(p.project, stack)}/… need no entry)`);
  }
  return boundary;
}
