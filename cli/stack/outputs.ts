/**
 * The deployed stack's names (`index.ts` outputs) that the commands which talk to AWS need, and where
 * they come from, first found wins:
 *
 * 1. `--outputs FILE` (or `BATCH_PIPELINE_OUTPUTS`): a saved `pulumi stack output --json` of the stack;
 * 2. `pulumi stack output --json --stack <stack>`, when the Pulumi CLI is installed;
 *
 * then flags override single names (`--start-queue`, `--process-queue`, `--bucket`, `--function`,
 * `--dlq-url`). The region is `AWS_REGION` if set, else the stack's `aws:region`.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { z } from "zod";
import type { CliContext } from "../app/context";
import type { StackOutputValues } from "../../contract";
import { CliError } from "../app/errors";
import type { StackFlags } from "../app/setup";
import { findProject, readStackConfig, stackNames } from "../../stack/project";

/** The outputs the CLI reads, of those the stack exports (contract/outputs.ts; tests/infra/stack.test.ts also checks them against the mocked stack). */
export const stackOutputsSchema = z.object({
  inputBucketName: z.string().min(1),
  startQueueArn: z.string().min(1),
  processQueueArn: z.string().min(1),
  queueArns: z.record(z.string(), z.string()),
  jobDefinitionNames: z.record(z.string(), z.string()),
  startJobDefinitionName: z.string().min(1),
  logGroupNames: z.record(z.string(), z.string()),
  jobStateLogGroup: z.string().min(1),
  triggerFunctionName: z.string().min(1),
  deadLetterQueueUrl: z.string().min(1),
  triggerPrefix: z.string(),
  triggerSuffix: z.string(),
  outputPrefix: z.string(),
});

export type StackOutputs = z.output<typeof stackOutputsSchema>;

/** Every output the CLI reads is one the stack exports, with the type it exports (contract/outputs.ts): else tsc fails here. */
const readsWhatTheStackExports: StackOutputs extends Pick<StackOutputValues, keyof StackOutputs> ? true : never = true;
void readsWhatTheStackExports;

/**
 * The stack's AWS account, read from the queue ARNs among its outputs, or undefined when flags replaced them
 * with names.
 */
export function stackAccount(outputs: Pick<StackOutputs, "startQueueArn" | "processQueueArn" | "queueArns">): string | undefined {
  for (const arn of [outputs.startQueueArn, outputs.processQueueArn, ...Object.values(outputs.queueArns)]) {
    const account = /^arn:[^:]+:[^:]+:[^:]*:(\d{12}):/.exec(arn)?.[1];
    if (account) return account;
  }
  return undefined;
}

/** A deployed stack: its name, its outputs and the region its clients use. */
export interface DeployedStack {
  stack: string;
  outputs: StackOutputs;
  /** `undefined`: the SDK resolves it from the environment (`AWS_REGION`, the profile). */
  region?: string;
  /** Where the outputs came from, for messages. */
  source: string;
}

/**
 * The stack the command is about: `--stack`, else `BATCH_PIPELINE_STACK`, else the only stack config
 * in the project. Throws naming the stacks there are when that leaves a choice.
 */
export function chooseStack(flags: StackFlags, ctx: CliContext): string {
  const given = flags.stack ?? ctx.env.BATCH_PIPELINE_STACK;
  if (given) return given;
  const stacks = stackNames(findProject(ctx.cwd));
  if (stacks.length === 1) return stacks[0]!;
  throw new CliError(`which stack? pass --stack NAME or set BATCH_PIPELINE_STACK (stacks here: ${stacks.join(", ") || "none"})`);
}

/** Parses a `pulumi stack output --json` document; throws naming the missing outputs. */
export function parseOutputs(text: string, source: string): StackOutputs {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CliError(`${source} is not JSON; save it with \`pulumi stack output --json --stack <stack> > <file>\``);
  }
  const parsed = stackOutputsSchema.safeParse(json);
  if (!parsed.success) {
    const missing = [...new Set(parsed.error.issues.map((i) => String(i.path[0] ?? "(root)")))];
    throw new CliError(`${source} lacks stack outputs ${missing.join(", ")}: deploy this version of the stack (\`pulumi up\`) and save its outputs again`);
  }
  return parsed.data;
}

/** Resolves the deployed stack's outputs (see the module comment). */
export async function loadDeployedStack(flags: StackFlags, ctx: CliContext): Promise<DeployedStack> {
  const stack = chooseStack(flags, ctx);
  const project = findProject(ctx.cwd);
  let region = ctx.env.AWS_REGION || ctx.env.AWS_DEFAULT_REGION || undefined;
  if (!region) {
    try {
      region = readStackConfig(project, stack).region;
    } catch {
      // No stack file here (outputs of a stack deployed elsewhere): the SDK's own resolution applies.
    }
  }
  const file = flags.outputs ?? ctx.env.BATCH_PIPELINE_OUTPUTS;
  let outputs: StackOutputs;
  let source: string;
  if (file) {
    const path = resolve(ctx.cwd, file);
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      throw new CliError(`cannot read the stack outputs file ${path}: ${(error as Error).message}`);
    }
    source = path;
    outputs = parseOutputs(text, path);
  } else {
    const text = await ctx.pulumi(["stack", "output", "--json", "--stack", stack], project.dir);
    if (text === undefined) {
      throw new CliError(
        `no stack outputs for \`${stack}\`: the Pulumi CLI is not installed; pass --outputs FILE (saved with \`pulumi stack output --json --stack ${stack} > ${stack}.outputs.json\`) or set BATCH_PIPELINE_OUTPUTS`,
      );
    }
    source = `pulumi stack output --stack ${stack}`;
    outputs = parseOutputs(text, source);
  }
  const overridden: StackOutputs = {
    ...outputs,
    ...(flags.startQueue ? { startQueueArn: flags.startQueue } : {}),
    ...(flags.processQueue ? { processQueueArn: flags.processQueue } : {}),
    ...(flags.bucket ? { inputBucketName: flags.bucket } : {}),
    ...(flags.function ? { triggerFunctionName: flags.function } : {}),
    ...(flags.dlqUrl ? { deadLetterQueueUrl: flags.dlqUrl } : {}),
  };
  return { stack, outputs: overridden, source, ...(region ? { region } : {}) };
}
