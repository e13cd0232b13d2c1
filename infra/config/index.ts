/** Stack configuration: see schema.ts. `import ... from "./config"` resolves here. */
export * from "./schema";
