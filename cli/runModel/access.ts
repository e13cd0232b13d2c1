/**
 * How a command reaches the runs of the deployed stack: the stack's outputs and a Batch client for its
 * region ({@link runAccess}), and {@link readRun}, `fetchRun` with SDK errors as one-line messages. Shared by
 * `status`, `watch`, `runs`, `submit --watch`, `cancel` and `logs`; the one place the CLI takes the SDK's
 * Batch command classes (batch/clients.ts `BATCH_COMMANDS`) for the calls of batch/calls.ts.
 */
import { BATCH_COMMANDS } from "../../batch/clients";
import type { CliContext } from "../app/context";
import { awsCall } from "../app/errors";
import type { CommandSetup } from "../app/setup";
import { type DeployedStack, loadDeployedStack, type StackOutputs } from "../stack/outputs";
import type { RunSnapshot } from "./model";
import { fetchRun, type FetchRunOptions, type RunDeps } from "./read";

/** What a command needs to read runs: the stack's names and the Batch client and commands, clock and sleep. */
export interface RunAccess {
  /** The stack's name, for the commands the screens suggest. */
  stack: string;
  outputs: StackOutputs;
  deps: Required<RunDeps>;
}

/** The deployed stack's outputs and a Batch client for its region. */
export async function runAccess(setup: CommandSetup): Promise<RunAccess> {
  return accessOf(await loadDeployedStack(setup.globals(), setup.ctx), setup.ctx);
}

/** {@link runAccess} to a stack already loaded (`submit --watch`, `cancel`, `logs`). */
export function accessOf({ stack, outputs, region }: DeployedStack, ctx: CliContext): RunAccess {
  return { stack, outputs, deps: { batch: ctx.aws(region).batch(), commands: BATCH_COMMANDS, now: () => ctx.now(), sleep: (ms) => ctx.sleep(ms) } };
}

/** {@link fetchRun} with SDK errors as one-line messages. */
export function readRun(runId: string, access: RunAccess, previous?: RunSnapshot, options?: FetchRunOptions): Promise<RunSnapshot> {
  return awsCall("Batch ListJobs/DescribeJobs", () => fetchRun(runId, access.outputs, access.deps, previous, options));
}
