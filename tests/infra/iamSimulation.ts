/**
 * Registers the IAM simulation tests of one mocked stack: every call of {@link callTables} simulated
 * against the policies the stack produced, with AWS's evaluation logic and authorization data.
 * Used by one test file per stack (each file loads the program once, under its own mocks).
 */
import { describe, expect, it } from "vitest";
import type { MockedStack } from "../mocks";
import { simulate, unknownToAws, type PolicyStatementJson } from "../support/iam";
import { BATCH_COMMANDS } from "../../batch/clients";
import { injectedActions, sdkCallsUnder } from "../support/sdkCalls";
import { callTables, type RoleCalls, deployedTriggerMode } from "./iamCalls";

export function describeIamSimulation(label: string, getStack: () => MockedStack): void {
  let tables: RoleCalls[] | undefined;
  const load = async () => (tables ??= await callTables(getStack()));

  const run = async (table: RoleCalls, expectAllowed: boolean) => {
    const wrong: string[] = [];
    for (const request of expectAllowed ? table.allowed : table.denied) {
      const resourcePolicy = table.resourcePolicies?.find((p) => request.resource.startsWith(p.arnPrefix))?.policy;
      const outcome = await simulate(table.principal, "123456789012", table.policies, request, resourcePolicy);
      if (outcome.result === "error") {
        wrong.push(`${request.action} on ${request.resource}: AWS would not recognise the request: ${outcome.errors}`);
        continue;
      }
      // A context key AWS does not define for the action is dropped by the simulator, as AWS ignores it:
      // a table that relies on one proves nothing.
      if (outcome.ignoredContextKeys.length > 0) wrong.push(`${request.action} on ${request.resource}: context keys AWS does not evaluate: ${outcome.ignoredContextKeys.join(", ")}`);
      const allowed = outcome.result === "Allowed";
      if (allowed !== expectAllowed) wrong.push(`${request.action} on ${request.resource} (${request.why}): ${outcome.result}, expected ${expectAllowed ? "Allowed" : "a denial"}`);
    }
    return wrong;
  };

  describe(`IAM of the ${label} stack, simulated against AWS's authorization data`, () => {
    it("lists calls for every role the stack creates, except instance and Spot fleet roles (AWS managed policies only)", async () => {
      const roles = getStack().resources.filter((r) => r.type === "aws:iam/role:Role").map((r) => r.name);
      const covered = new Set((await load()).map((t) => t.role));
      expect(roles.filter((r) => !covered.has(r) && !/-(instance|spot-fleet)-role$/.test(r))).toEqual([]);
      for (const t of await load()) expect(t.allowed.length, t.role).toBeGreaterThan(0);
    });

    it("allows every call the code makes, on the exact resource and with the context AWS evaluates", async () => {
      const wrong = (await Promise.all((await load()).map((t) => run(t, true)))).flat();
      expect(wrong).toEqual([]);
    });

    it("denies what least privilege must refuse (other queues and definitions, other tag keys, other stacks' jobs, the trigger prefix, plain HTTP)", async () => {
      const wrong = (await Promise.all((await load()).map((t) => run(t, false)))).flat();
      expect(wrong).toEqual([]);
    });

    it("lists every AWS call the runtime code sends (a new SDK command without a table entry fails here)", async () => {
      const tables = await load();
      const actionsOf = (suffix: string) => new Set(tables.find((t) => t.role.endsWith(suffix))!.allowed.map((r) => r.action));
      // orchestrator.mode inline or auto: the trigger also runs the submitter and the Batch calls it shares
      // (functions/inline.ts → batch/submitter.ts, batch/calls.ts); a container-mode trigger runs none of batch/.
      const submitsDags = deployedTriggerMode(getStack()) !== "container";
      const sources = [
        // The trigger Lambda: its own code and the idempotency library it runs.
        {
          role: "-trigger-role",
          calls: [
            ...sdkCallsUnder("functions"),
            ...(submitsDags ? sdkCallsUnder("batch") : []),
            ...sdkCallsUnder("node_modules/@aws-lambda-powertools/idempotency/lib/cjs/persistence/DynamoDBPersistenceLayer.js"),
          ],
        },
        // The start job: its own code, the Batch calls it shares (batch/), and every command class
        // jobs/orchestrator.ts hands it (BATCH_COMMANDS), however the code constructs them: what it is
        // given it may send. (The benchmark is not shipped in the image's entry point.)
        {
          role: "-orchestrator-job-role",
          calls: [...sdkCallsUnder("jobs", ["bench"]), ...sdkCallsUnder("batch"), ...injectedActions(BATCH_COMMANDS, "jobs/orchestrator.ts BATCH_COMMANDS")],
        },
        // Whoever runs batch-pipeline, with the operator policy: the CLI's own calls and the orchestrator
        // code it reuses (batch/calls.ts listing, describing, terminating; it submits nothing).
        // lib-storage's Upload sends PutObjectTagging only when given `tags`, which cli/submit/upload.ts never passes.
        {
          role: "-operator-policy",
          calls: [
            ...sdkCallsUnder("cli"),
            ...sdkCallsUnder("batch/calls.ts"),
            ...sdkCallsUnder("node_modules/@aws-sdk/lib-storage/dist-cjs/index.js").filter((c) => c.action !== "s3:PutObjectTagging"),
          ],
        },
      ];
      for (const { calls } of sources) expect(calls.length).toBeGreaterThan(0);
      // The scan reads a command sent through injected classes (`new deps.commands.ListJobsCommand(`) too.
      expect(new Set(sdkCallsUnder("batch").map((c) => c.action))).toEqual(new Set(["batch:SubmitJob", "batch:ListJobs", "batch:DescribeJobs", "batch:TerminateJob"]));
      const missing = sources.flatMap(({ role, calls }) => calls.filter((c) => !actionsOf(role).has(c.action)).map((c) => `${c.file} sends ${c.action}, not in the call table of *${role}`));
      expect(missing).toEqual([]);
    });

    it("names only actions, resource types and condition keys that AWS defines for each action", async () => {
      const stack = getStack();
      // Identity policies, and the resource policies of the bucket, the failure topic, the job-state log group and (queue delivery) the trigger's queue.
      const policyInput: Record<string, string> = {
        "aws:iam/rolePolicy:RolePolicy": "policy",
        "aws:iam/policy:Policy": "policy",
        "aws:s3/bucketPolicy:BucketPolicy": "policy",
        "aws:sns/topicPolicy:TopicPolicy": "policy",
        "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": "policyDocument",
        // trigger.delivery: queue
        "aws:sqs/queuePolicy:QueuePolicy": "policy",
      };
      const documents = stack.resources
        .filter((r) => r.type in policyInput)
        .map((r) => ({ name: r.name, doc: JSON.parse(r.inputs[policyInput[r.type]!]) as { Statement: PolicyStatementJson[] } }));
      const checked = new Set(documents.map((d) => stack.resources.find((r) => r.name === d.name)!.type));
      for (const type of ["aws:iam/rolePolicy:RolePolicy", "aws:s3/bucketPolicy:BucketPolicy", "aws:sns/topicPolicy:TopicPolicy", "aws:cloudwatch/logResourcePolicy:LogResourcePolicy"]) {
        expect(checked, type).toContain(type);
      }
      const problems = (await Promise.all(documents.map(async ({ name, doc }) => (await unknownToAws(doc.Statement)).map((p) => `${name}: ${p}`)))).flat();
      expect(problems).toEqual([]);
    });
  });
}
