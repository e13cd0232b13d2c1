/**
 * Writes the GitHub Actions roles' policy documents (deploy/policies.ts) for your account, repository,
 * state bucket and KMS key:
 *
 *   npx tsx deploy/render.ts --account 111122223333 --repository my-org/batch-pipeline \
 *     --state-bucket my-org-pulumi-state --state-prefix batch-pipeline/ \
 *     --secrets-key-arn arn:aws:kms:eu-west-1:111122223333:key/<key-id> [--partition aws] [--out deploy]
 *
 * The stacks are this project's Pulumi.<stack>.yaml files; the protected one is `prod`. Without
 * arguments it writes the example documents committed in deploy/ (a test keeps them in step).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { findProject, stackNames } from "../cli/stack";
import { deployRolePolicies, githubOidcTrust, previewRolePolicy, type RoleParams, subjects } from "./policies";

const ROOT = join(__dirname, "..");

/**
 * The project name (Pulumi.yaml) and its stacks (one Pulumi.<stack>.yaml each), sorted: read by the CLI's
 * own reader (cli/stack.ts), so the roles cover exactly the stacks `batch-pipeline validate` lists.
 */
export function projectStacks(root = ROOT): { project: string; stacks: string[] } {
  const project = findProject(root);
  return { project: project.name, stacks: stackNames(project) };
}

/** The values of the committed example documents: AWS's documentation account, placeholder names. */
export const EXAMPLE: RoleParams = {
  accountId: "123456789012",
  partition: "aws",
  repository: "your-org/batch-pipeline",
  ...projectStacks(),
  protectedStack: "prod",
  stateBucket: "your-org-pulumi-state",
  statePrefix: "batch-pipeline/",
  secretsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
};

/** Every document, by file name, as written (two-space JSON and a final newline). */
export function renderAll(p: RoleParams): Record<string, string> {
  const docs = {
    ...Object.fromEntries(Object.entries(deployRolePolicies(p)).map(([part, doc]) => [`deploy-role-policy-${part}.json`, doc])),
    "github-oidc-trust.json": githubOidcTrust(p, subjects.deploy(p)),
    "preview-role-policy.json": previewRolePolicy(p),
    "github-oidc-preview-trust.json": githubOidcTrust(p, subjects.preview(p)),
  };
  return Object.fromEntries(Object.entries(docs).map(([file, doc]) => [file, `${JSON.stringify(doc, null, 2)}\n`]));
}

function main(): void {
  const { values } = parseArgs({
    options: {
      account: { type: "string" },
      partition: { type: "string" },
      repository: { type: "string" },
      "state-bucket": { type: "string" },
      "state-prefix": { type: "string" },
      "secrets-key-arn": { type: "string" },
      out: { type: "string", default: __dirname },
    },
  });
  const params: RoleParams = {
    ...EXAMPLE,
    ...(values.account ? { accountId: values.account } : {}),
    ...(values.partition ? { partition: values.partition } : {}),
    ...(values.repository ? { repository: values.repository } : {}),
    ...(values["state-bucket"] ? { stateBucket: values["state-bucket"] } : {}),
    ...(values["state-prefix"] !== undefined ? { statePrefix: values["state-prefix"] } : {}),
    ...(values["secrets-key-arn"] ? { secretsKeyArn: values["secrets-key-arn"] } : {}),
  };
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
