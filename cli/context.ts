/**
 * The terminal, clients and clock a command runs with now live in cli/app/context.ts. This file only
 * re-exports it for tests/cli/demoAccount.ts, which is being rewritten elsewhere; delete it once that
 * file imports cli/app/context.ts. Nothing in cli/ imports it (tests/architecture.test.ts).
 */
export * from "./app/context";
