/**
 * One format for component argument errors, checked before any resource is created:
 * ``ComputeEnvironment 'gpu' has `minVcpus` = 8; minVcpus cannot exceed maxVcpus (4)`` — the component,
 * its name, the field, the value and the rule.
 */
export type Fail = (field: string, value: unknown, rule: string) => never;

/**
 * A rule broken, as a component's exported problem function reports it: the argument and the rule. The
 * stack config calls the same functions and maps `field` to its own key, so a rule lives once.
 */
export interface ArgsProblem<Field extends string = string> {
  readonly field: Field;
  readonly rule: string;
}

export function argsFailer(ErrorClass: new (message: string) => Error, component: string, name: string): Fail {
  return (field, value, rule) => {
    throw new ErrorClass(`${component} '${name}' has \`${field}\` = ${JSON.stringify(value)}; ${rule}`);
  };
}
