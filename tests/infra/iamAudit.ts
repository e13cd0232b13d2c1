/** Collects and checks every IAM statement a mocked stack declares. */
import type { MockedStack } from "../mocks";

export interface Statement {
  Sid?: string;
  Effect: string;
  Action?: string | string[];
  Resource?: string | string[];
  Condition?: unknown;
}

export function statementsOf(stack: MockedStack): { policy: string; statement: Statement }[] {
  return stack.resources
    .filter((r) => r.type === "aws:iam/rolePolicy:RolePolicy" || r.type === "aws:iam/policy:Policy")
    .flatMap((r) => {
      const doc = typeof r.inputs.policy === "string" ? JSON.parse(r.inputs.policy) : r.inputs.policy;
      return (doc.Statement as Statement[]).map((statement) => ({ policy: r.name, statement }));
    });
}

export const asList = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Managed policies attached anywhere in the stack. */
export function attachedPolicyArns(stack: MockedStack): string[] {
  return stack.resources
    .filter((r) => r.type === "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    .map((r) => r.inputs.policyArn as string)
    .concat(stack.resources.filter((r) => r.type === "aws:iam/role:Role").flatMap((r) => (r.inputs.managedPolicyArns as string[]) ?? []));
}
