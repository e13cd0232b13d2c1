/**
 * One format for component argument errors, checked before any resource is created:
 * ``ComputeEnvironment 'gpu' has `minVcpus` = 8; minVcpus cannot exceed maxVcpus (4)`` — the component,
 * its name, the field, the value and the rule.
 */
export type Fail = (field: string, value: unknown, rule: string) => never;

export function argsFailer(ErrorClass: new (message: string) => Error, component: string, name: string): Fail {
  return (field, value, rule) => {
    throw new ErrorClass(`${component} '${name}' has \`${field}\` = ${JSON.stringify(value)}; ${rule}`);
  };
}
