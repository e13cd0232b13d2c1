/**
 * What a command module is given to register itself (cli/app/program.ts builds it and registers every
 * command): the context, the global options once parsed, and the wrapper that turns a subcommand's
 * resolved number into the exit code. Here, not in program.ts, so that a command never imports the
 * program that imports it.
 */
import type { Command } from "commander";
import type { CliContext } from "./context";

/** The global flags that choose a stack and override its names (cli/stack/outputs.ts reads them). */
export interface StackFlags {
  stack?: string;
  outputs?: string;
  startQueue?: string;
  processQueue?: string;
  bucket?: string;
  function?: string;
  dlqUrl?: string;
}

/** The global options every subcommand sees. */
export interface GlobalOptions extends StackFlags {
  color: boolean;
}

/** What a subcommand module gets to register itself with. */
export interface CommandSetup {
  ctx: CliContext;
  /** The global options, once parsed. */
  globals(): GlobalOptions;
  /** Wraps a subcommand's action: its resolved number is the process exit code. */
  action<A extends unknown[]>(run: (...args: A) => Promise<number>): (...args: A) => Promise<void>;
}

/** A command module's export: registers one subcommand on the program (`program.command(...)`, so it inherits output and exit settings). */
export type RegisterCommand = (program: Command, setup: CommandSetup) => void;
