/**
 * AWS Batch: job definitions bound every attempt and retry only what may succeed next time; compute
 * environments can be replaced without an outage; queues do not hold unplaceable jobs forever.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { asList, forTypes, show, subject } from "./resources";

const JOB_DEFINITIONS = ["aws:batch/jobDefinition:JobDefinition"];

export const jobTimeout: ResourceValidationPolicy = {
  name: "batch-job-definition-timeout",
  description: "Batch job definitions set timeout.attemptDurationSeconds, so a hung attempt is stopped.",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediationSteps: "Set timeout.attemptDurationSeconds (Batch's minimum is 60) to the longest an attempt may run.",
  validateResource: forTypes(JOB_DEFINITIONS, (props, args, report) => {
    const seconds: unknown = props.timeout?.attemptDurationSeconds;
    if (typeof seconds !== "number" || !(seconds > 0)) {
      report(`${subject(args)}: timeout.attemptDurationSeconds is ${seconds === undefined ? "not set" : show(seconds)}, so a hung attempt runs (and holds its vCPUs) until someone terminates it; set timeout.attemptDurationSeconds, at least 60.`);
    }
  }),
};

/** One `evaluateOnExit` rule as the provider takes it. */
interface ExitRule {
  action?: string;
  onExitCode?: string;
  onReason?: string;
  onStatusReason?: string;
}

/**
 * A rule that matches every attempt: each pattern it sets is `*` (AWS's own example ends with
 * `{ onReason: "*", action: "EXIT" }`, Batch user guide, "Automated job retries").
 */
function isCatchAllExit(rule: ExitRule): boolean {
  const patterns = [rule.onExitCode, rule.onReason, rule.onStatusReason].filter((p) => p !== undefined && p !== "");
  return patterns.length > 0 && patterns.every((p) => p === "*") && rule.action?.toUpperCase() === "EXIT";
}

const CATCH_ALL = '{ onReason: "*", action: "EXIT" }';

export const retryCatchAll: ResourceValidationPolicy = {
  name: "batch-job-definition-retry-catch-all",
  description: 'Batch job definitions have a retry strategy whose evaluateOnExits end with a catch-all EXIT (e.g. { onReason: "*", action: "EXIT" }).',
  enforcementLevel: "mandatory",
  severity: "medium",
  remediationSteps: `Set retryStrategy.attempts and evaluateOnExits: RETRY rules for what may succeed next time (e.g. onStatusReason "Host EC2*"), then ${CATCH_ALL}.`,
  validateResource: forTypes(JOB_DEFINITIONS, (props, args, report) => {
    // Batch retries an attempt that no rule matches (RetryStrategy, AWS Batch API reference), so
    // without a final catch-all a bug burns every attempt.
    const strategy = props.retryStrategy as { attempts?: unknown; evaluateOnExits?: unknown } | undefined;
    if (strategy === undefined) {
      report(`${subject(args)}: retryStrategy is not set, so an attempt lost to Spot reclamation is not retried; set retryStrategy.attempts and evaluateOnExits ending with ${CATCH_ALL}.`);
      return;
    }
    const rules = asList(strategy.evaluateOnExits) as ExitRule[];
    if (rules.length === 0) {
      report(`${subject(args)}: retryStrategy.evaluateOnExits is empty, so Batch retries every failure until attempts run out; end it with ${CATCH_ALL}.`);
      return;
    }
    const last = rules[rules.length - 1]!;
    if (!isCatchAllExit(last)) {
      report(`${subject(args)}: retryStrategy.evaluateOnExits[${rules.length - 1}] ${show(last)} is the last rule and not a catch-all EXIT, so Batch retries every failure no rule matches; append ${CATCH_ALL}.`);
    }
  }),
};

export const replaceableEnvironment: ResourceValidationPolicy = {
  name: "batch-compute-environment-replaceable",
  description: "Batch compute environments are autonamed and replaced create-before-delete, so a queue always has an environment.",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediationSteps: "Remove `name` (Pulumi autonames the environment, or use namePrefix) and the deleteBeforeReplace resource option.",
  validateResource: forTypes(["aws:batch/computeEnvironment:ComputeEnvironment"], (props, args, report) => {
    // `name` in provider v7, `computeEnvironmentName` before.
    for (const input of ["name", "computeEnvironmentName"]) {
      const name: unknown = props[input];
      if (name !== undefined) {
        report(`${subject(args)}: ${input} is fixed (${show(name)}), so a replacement cannot exist beside the old environment and must wait for its deletion, which a queue still using it blocks; remove ${input} (or use namePrefix) so Pulumi creates the replacement first.`);
      }
    }
    if (args.opts.deleteBeforeReplace === true) {
      report(`${subject(args)}: the deleteBeforeReplace resource option deletes the environment before its replacement exists; remove it so the replacement is created and the queues repointed before the old environment is deleted.`);
    }
  }),
};

export const runnableTimeLimit: ResourceValidationPolicy = {
  name: "batch-job-queue-runnable-time-limit",
  description: "Batch job queues cancel jobs stuck RUNNABLE (jobStateTimeLimitActions with state RUNNABLE).",
  // A recommendation: the stack config may turn it off (runnableTimeoutSeconds 0).
  enforcementLevel: "advisory",
  severity: "low",
  remediationSteps: 'Add jobStateTimeLimitActions entries { state: "RUNNABLE", action: "CANCEL", maxTimeSeconds: 600 to 86400, reason } for the reasons a job never starts by itself.',
  validateResource: forTypes(["aws:batch/jobQueue:JobQueue"], (props, args, report) => {
    const actions = asList(props.jobStateTimeLimitActions) as { state?: unknown }[];
    if (!actions.some((a) => a.state === "RUNNABLE")) {
      report(`${subject(args)}: jobStateTimeLimitActions has no RUNNABLE entry, so a job no environment can place (too big for every instance type, or the environments at maxVcpus) stays RUNNABLE at the head of the queue; add { state: "RUNNABLE", action: "CANCEL", maxTimeSeconds: 3600, reason: "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT" } and the other stuck reasons.`);
    }
  }),
};

export const batchPolicies = [jobTimeout, retryCatchAll, replaceableEnvironment, runnableTimeLimit];
