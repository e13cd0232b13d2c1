/** CloudWatch Logs: no log group keeps its logs (and their cost) forever. */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { forTypes, show, subject } from "./resources";

/** The policy's configuration (`--policy-pack-config`), with its default. */
export interface LogRetentionConfig {
  /** The shortest retention a log group may have, in days. @default 1 */
  minimumRetentionDays?: number;
}

export const logRetention: ResourceValidationPolicy = {
  name: "cloudwatch-log-group-retention",
  description: "CloudWatch log groups set retentionInDays (0 or unset keeps logs forever), at least minimumRetentionDays.",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediationSteps: "Set retentionInDays to one of CloudWatch's values (1, 3, 5, 7, 14, 30, 60, 90, ...).",
  configSchema: {
    properties: {
      minimumRetentionDays: { type: "integer", minimum: 1, default: 1, description: "The shortest retention a log group may have, in days." },
    },
  },
  validateResource: forTypes(["aws:cloudwatch/logGroup:LogGroup"], (props, args, report) => {
    const minimum = args.getConfig<LogRetentionConfig>().minimumRetentionDays ?? 1;
    const days: unknown = props.retentionInDays;
    if (days === undefined || days === 0) {
      report(`${subject(args)}: retentionInDays is ${days === undefined ? "not set" : "0"}, so its logs are kept (and billed) forever; set retentionInDays to one of CloudWatch's values, e.g. 30.`);
    } else if (typeof days !== "number" || days < minimum) {
      report(`${subject(args)}: retentionInDays is ${show(days)}, below the ${minimum} days this stack's policy configuration requires; set it to at least ${minimum}.`);
    }
  }),
};

export const logPolicies = [logRetention];
