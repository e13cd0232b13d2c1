/**
 * The requests every statement the stack renders into its roles' inline policies stands for, to send through
 * the permissions boundary: each action on each resource (`*` in an ARN made a name, a log group's `:*` its log
 * stream), with the context its own conditions require (the stack tag a job is submitted or terminated with,
 * TLS, the listed prefix), so a boundary that conditions the same calls on the same values lets them pass.
 */
import type { PolicyDocument } from "../../deploy/policies";
import type { MockedStack } from "../mocks";
import type { AwsRequest } from "../support/iam";

/** A policy resource as a request: `*` in an ARN becomes a name (a log group's `:*` its log stream). */
export const concrete = (arn: string) => (arn === "*" ? "*" : arn.replace(/:log-group:([^:]+):\*$/, ":log-group:$1:log-stream:x1").replace(/\*/g, "x1"));

/** Context values that satisfy a statement's conditions (the operators the pipeline's statements use). */
export function contextSatisfying(condition: Record<string, Record<string, unknown>> | undefined): Record<string, string | string[]> {
  const context: Record<string, string | string[]> = {};
  for (const [operator, keys] of Object.entries(condition ?? {})) {
    for (const [key, value] of Object.entries(keys)) {
      const values = [value].flat().map((v) => String(v).replace(/\*/g, "x1"));
      if (operator.startsWith("ForAllValues:") || operator.startsWith("ForAnyValue:")) context[key] = values;
      else if (/^(StringEquals|StringLike|ArnLike|ArnEquals|Bool)$/.test(operator)) context[key] = values[0]!;
      else throw new Error(`no context for condition operator ${operator} (${key}): teach contextSatisfying`);
    }
  }
  return context;
}

/** Every Allow statement of every inline role policy of the stack, as requests with the statement alone as the identity policy. */
export function renderedStatementRequests(stack: MockedStack): { identity: PolicyDocument; request: AwsRequest }[] {
  const requests: { identity: PolicyDocument; request: AwsRequest }[] = [];
  for (const r of stack.resources.filter((x) => x.type === "aws:iam/rolePolicy:RolePolicy")) {
    for (const st of (JSON.parse(r.inputs.policy) as PolicyDocument).Statement) {
      if (st.Effect !== "Allow") continue;
      const identity = { Version: "2012-10-17", Statement: [st] } as PolicyDocument;
      const context = contextSatisfying(st.Condition);
      for (const action of [st.Action].flat()) {
        for (const resource of [st.Resource].flat()) requests.push({ identity, request: { action: action!, resource: concrete(resource!), context, why: `${r.name} ${st.Sid}` } });
      }
    }
  }
  return requests;
}
