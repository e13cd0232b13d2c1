/**
 * What every policy of the pack needs to read resources the way the engine hands them over: inputs by
 * Pulumi type token (no provider SDK is loaded, so the pack checks any program, whatever @pulumi/aws
 * version it uses), IAM documents given as JSON text or as objects, and resources named in messages.
 */
import type { PolicyResource, ReportViolation, ResourceValidation, ResourceValidationArgs } from "@pulumi/policy";

/** A resource's kind as people read it in messages: `aws:iam/rolePolicy:RolePolicy` → `RolePolicy`. */
export function kindOf(type: string): string {
  return type.slice(type.lastIndexOf(":") + 1);
}

/** How a message names a resource: its kind and logical name, as `pulumi preview` lists them. */
export function subject(resource: { type: string; name: string }): string {
  return `${kindOf(resource.type)} "${resource.name}"`;
}

/** A scalar or a list (IAM's Action, Resource and condition values, provider list inputs) as a list. */
export function asList(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/** A value as messages show it: strings quoted, everything else as JSON. */
export function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/**
 * A resource validation that runs only for the given type tokens; any other type is reported to the
 * engine as not applicable, as `validateResourceOfType` does for one class.
 */
export function forTypes(types: readonly string[], validate: (props: Record<string, any>, args: ResourceValidationArgs, report: ReportViolation) => void): ResourceValidation {
  return (args, report) => {
    if (!types.includes(args.type)) args.notApplicable(`applies to ${types.join(", ")}`);
    validate(args.props, args, report);
  };
}

/** One statement of an IAM policy document (identity, trust or resource policy). */
export interface Statement {
  Sid?: string;
  Effect?: string;
  Action?: unknown;
  NotAction?: unknown;
  Resource?: unknown;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/**
 * The statements of a policy document, whether the program passed JSON text (what `JSON.stringify` or
 * `aws.iam.getPolicyDocument` produce) or an object; `Statement` may be one statement or a list.
 * Returns undefined for anything else, which IAM would refuse too.
 */
export function statementsOf(document: unknown): Statement[] | undefined {
  let doc = document;
  if (typeof doc === "string") {
    try {
      doc = JSON.parse(doc);
    } catch {
      return undefined;
    }
  }
  if (typeof doc !== "object" || doc === null || !("Statement" in doc)) return undefined;
  const statements = asList((doc as { Statement: unknown }).Statement);
  return statements.every((s) => typeof s === "object" && s !== null) ? (statements as Statement[]) : undefined;
}

/** Where a statement sits, for messages: `Statement[2] (Sid "ReadInput")`. */
export function statementLabel(statement: Statement, index: number): string {
  return statement.Sid ? `Statement[${index}] (Sid "${statement.Sid}")` : `Statement[${index}]`;
}

/**
 * The resources of `types` that configure `target` through their `property` input (a bucket's public
 * access block names it in `bucket`). The engine records which resources each input came from, so the
 * link holds during a first preview too, when the bucket's name is not yet known; a literal name (a
 * bucket made elsewhere) is compared with the target's own `nameProperty` output instead.
 */
export function configuring(resources: readonly PolicyResource[], target: PolicyResource, types: readonly string[], property: string, nameProperty: string): PolicyResource[] {
  return resources.filter((r) => {
    if (!types.includes(r.type)) return false;
    const from = r.propertyDependencies[property] ?? [];
    if (from.length > 0) return from.some((d) => d.urn === target.urn);
    const value: unknown = r.props[property];
    return typeof value === "string" && value === target.props[nameProperty];
  });
}
