/**
 * Writes the GitHub Actions roles' policy documents (deploy/policies.ts) for your account, repository,
 * state bucket and KMS key:
 *
 *   npx tsx deploy/render.ts --account 111122223333 --repository my-org/batch-pipeline \
 *     --state-bucket my-org-pulumi-state --state-prefix batch-pipeline/ \
 *     --secrets-key-arn arn:aws:kms:eu-west-1:111122223333:key/<key-id> [--secrets-key-arn prod=<prod's key arn>] \
 *     [--owner-id <id> --repository-id <id>] [--job-workflow-ref] [--partition aws] [--out deploy] \
 *     [--boundary-name batch-pipeline-permissions-boundary] [--boundary-allow sns:Publish,...]
 *
 * The stacks are this project's Pulumi.<stack>.yaml files; the protected one is `prod`. Each stack's boundary
 * also allows the secrets, parameters, EFS file systems and private ECR repositories its config names. Without
 * arguments it writes the example documents committed in deploy/ (a test keeps them in step).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parse } from "yaml";
import { findProject, stackFile, stackNames } from "../stack/project";
import { PRIVATE_ECR_IMAGE, secretSource } from "../stack/containerRules";
import { type JobStatement, type RoleParams, type StackResources, stackRoles } from "./policies";

const ROOT = join(__dirname, "..");

/**
 * The project name (Pulumi.yaml) and its stacks (one Pulumi.<stack>.yaml each), sorted: read by the reader the
 * CLI uses too (stack/project.ts), so the roles cover exactly the stacks `batch-pipeline validate` lists.
 */
export function projectStacks(root = ROOT): { project: string; stacks: string[] } {
  const project = findProject(root);
  return { project: project.name, stacks: stackNames(project) };
}

/** What each stack's `Pulumi.<stack>.yaml` names outside its prefix ({@link configResources}), by stack. */
export function projectStackResources(root = ROOT, partition = EXAMPLE_PARTITION): Record<string, StackResources> {
  const project = findProject(root);
  return Object.fromEntries(
    stackNames(project).map((stack) => {
      const doc = (parse(readFileSync(stackFile(project, stack), "utf8")) ?? {}) as { config?: Record<string, unknown> };
      return [stack, configResources(doc.config ?? {}, partition)];
    }),
  );
}

const EXAMPLE_PARTITION = "aws";

/**
 * What a stack's config (its `Pulumi.<stack>.yaml` `config:`, or the same values as the program reads them)
 * names outside the stack's prefix, wherever it names it: SSM parameters and Secrets Manager secrets by ARN
 * (job definitions' `secrets`), EFS file systems (`fileSystemId`), private ECR images (their repositories),
 * and the Allow statements of its job definitions' `policyStatements`.
 */
export function configResources(config: unknown, partition = EXAMPLE_PARTITION): StackResources {
  const parameters = new Set<string>();
  const secrets = new Set<string>();
  const fileSystems = new Set<string>();
  const repositories = new Set<string>();
  const walk = (value: unknown, key?: string): void => {
    if (Array.isArray(value)) value.forEach((v) => walk(v));
    else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) walk(v, k);
    else if (typeof value === "string") {
      // The same parsers the stack's validation and its execution roles use (stack/containerRules.ts).
      const source = secretSource(value);
      const image = PRIVATE_ECR_IMAGE.exec(value);
      if (key === "fileSystemId") fileSystems.add(value);
      else if (source?.service === "ssm") parameters.add(source.arn);
      else if (source) secrets.add(source.arn);
      else if (image) repositories.add(`arn:${image[2]!.startsWith("cn-") ? "aws-cn" : partition}:ecr:${image[2]}:${image[1]}:repository/${image[3]}`);
    }
  };
  walk(config);
  const sorted = (set: Set<string>) => [...set].sort();
  // `jobDefinitions` (program form) or `<project>:jobDefinitions` (a stack file's `config:`).
  const definitions = Object.entries((config ?? {}) as Record<string, unknown>).find(([k]) => k === "jobDefinitions" || k.endsWith(":jobDefinitions"))?.[1];
  const jobStatements = Object.values((definitions ?? {}) as Record<string, { policyStatements?: (JobStatement & { Effect?: string })[] }>)
    .flatMap((d) => d?.policyStatements ?? [])
    .filter((st) => (st.Effect ?? "Allow") === "Allow")
    .map((st): JobStatement => ({ Action: [...st.Action], Resource: [...st.Resource], ...(st.Condition ? { Condition: st.Condition } : {}) }));
  return {
    ...(jobStatements.length ? { jobStatements } : {}),
    ...(parameters.size ? { parameters: sorted(parameters) } : {}),
    ...(secrets.size ? { secrets: sorted(secrets) } : {}),
    ...(fileSystems.size ? { fileSystems: sorted(fileSystems) } : {}),
    ...(repositories.size ? { repositories: sorted(repositories) } : {}),
  };
}


/** The values of the committed example documents: AWS's documentation account, placeholder names. */
export const EXAMPLE: RoleParams = {
  accountId: "123456789012",
  partition: "aws",
  repository: "your-org/batch-pipeline",
  ...projectStacks(),
  stackResources: projectStackResources(),
  protectedStack: "prod",
  stateBucket: "your-org-pulumi-state",
  statePrefix: "batch-pipeline/",
  secretsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
  // The protected stack's secrets under their own key: no other stack's role can decrypt them.
  secretsKeyArns: { prod: "arn:aws:kms:eu-west-1:123456789012:key/5678abcd-56ab-78cd-90ef-5678901234ab" },
  boundaryPolicyName: "batch-pipeline-permissions-boundary",
};

/**
 * Every document, by file name, as written (two-space JSON and a final newline): per stack, its deploy
 * role's managed policies and trust, its preview role's policy and trust, and its permissions boundary.
 */
export function renderAll(p: RoleParams): Record<string, string> {
  const docs: Record<string, unknown> = {};
  for (const stack of p.stacks) {
    const roles = stackRoles(p, stack);
    for (const [part, doc] of Object.entries(roles.deployPolicies)) docs[`deploy-${stack}-policy-${part}.json`] = doc;
    docs[`deploy-${stack}-trust.json`] = roles.deployTrust;
    docs[`preview-${stack}-policy.json`] = roles.previewPolicy;
    docs[`preview-${stack}-trust.json`] = roles.previewTrust;
    docs[`permissions-boundary-${stack}.json`] = roles.boundary;
  }
  return Object.fromEntries(Object.entries(docs).map(([file, doc]) => [file, `${JSON.stringify(doc, null, 2)}\n`]));
}

/**
 * `--secrets-key-arn <arn>` (every stack's key) and `--secrets-key-arn <stack>=<arn>` (one stack's own key),
 * repeatable. Without a per-stack key the example's own keys are dropped: they are of the example account.
 */
function secretsKeys(given: readonly string[]): Pick<RoleParams, "secretsKeyArn" | "secretsKeyArns"> | Record<string, never> {
  if (given.length === 0) return {};
  const perStack: Record<string, string> = {};
  let all: string | undefined;
  for (const value of given) {
    const match = /^([^=]+)=(arn:.+)$/.exec(value);
    if (match) perStack[match[1]!] = match[2]!;
    else all = value;
  }
  return { secretsKeyArn: all ?? Object.values(perStack)[0]!, secretsKeyArns: perStack };
}

function main(): void {
  const { values } = parseArgs({
    options: {
      account: { type: "string" },
      partition: { type: "string" },
      repository: { type: "string" },
      "state-bucket": { type: "string" },
      "state-prefix": { type: "string" },
      "secrets-key-arn": { type: "string", multiple: true },
      "repository-id": { type: "string" },
      "owner-id": { type: "string" },
      "job-workflow-ref": { type: "boolean" },
      "boundary-name": { type: "string" },
      "boundary-allow": { type: "string" },
      out: { type: "string", default: __dirname },
    },
  });
  const params: RoleParams = {
    ...EXAMPLE,
    ...(values.account ? { accountId: values.account } : {}),
    ...(values.partition ? { partition: values.partition, stackResources: projectStackResources(ROOT, values.partition) } : {}),
    ...(values.repository ? { repository: values.repository } : {}),
    ...(values["state-bucket"] ? { stateBucket: values["state-bucket"] } : {}),
    ...(values["state-prefix"] !== undefined ? { statePrefix: values["state-prefix"] } : {}),
    ...secretsKeys(values["secrets-key-arn"] ?? []),
    ...(values["repository-id"] || values["owner-id"] ? { repositoryIds: { owner: values["owner-id"] ?? "", repository: values["repository-id"] ?? "" } } : {}),
    ...(values["job-workflow-ref"] ? { jobWorkflowRef: true } : {}),
    ...(values["boundary-name"] ? { boundaryPolicyName: values["boundary-name"] } : {}),
    ...(values["boundary-allow"] ? { boundaryExtraActions: values["boundary-allow"].split(",").map((a) => a.trim()).filter(Boolean) } : {}),
  };
  if (!/^[\w+=,.@-]{1,128}$/.test(params.boundaryPolicyName)) throw new Error(`--boundary-name ${params.boundaryPolicyName}: an IAM policy name is 1-128 of letters, digits and +=,.@_-`);
  for (const action of params.boundaryExtraActions ?? []) {
    if (!/^[a-z0-9-]+:[A-Za-z0-9]+$/.test(action)) throw new Error(`--boundary-allow ${action}: give exact actions, service:Action, comma-separated`);
  }
  if (params.repositoryIds && !(/^\d+$/.test(params.repositoryIds.owner) && /^\d+$/.test(params.repositoryIds.repository))) {
    throw new Error("--owner-id and --repository-id: give both of GitHub's numeric ids (gh api repos/<owner>/<name> --jq '.owner.id, .id')");
  }
  if (!/^\d{12}$/.test(params.accountId)) throw new Error(`--account ${params.accountId}: an AWS account id is 12 digits`);
  if (!/^[\w.-]+\/[\w.-]+$/.test(params.repository)) throw new Error(`--repository ${params.repository}: give owner/name`);
  for (const [file, text] of Object.entries(renderAll(params))) {
    writeFileSync(join(values.out!, file), text);
    console.log(join(values.out!, file));
  }
}

if (require.main === module) {
  try {
    main();
  } catch (e) {
    console.error((e as Error).message);
    process.exitCode = 2;
  }
}
