/**
 * Runs the policy pack's validations the way the Pulumi engine does (@pulumi/policy's analyzer server):
 * each resource policy on every resource's inputs, each stack policy once on every resource's outputs
 * with its parent, dependencies and per-input dependencies, each policy at its configured enforcement
 * level. The resources are the program's own under the project's runtime mocks (tests/mocks.ts), with
 * what the engine would know of them: URNs and the dependencies of each input, read from the very
 * register requests the program sends.
 */
import type { EnforcementLevel, Policy, PolicyPackConfig, PolicyResource, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { PACK_ENFORCEMENT_LEVEL, policies } from "../../policy/policies";
import { type MockedStack, setupPulumiMocks, settle } from "../mocks";

/** One resource as the engine hands it to a policy pack. */
export interface StackResource {
  type: string;
  name: string;
  urn: string;
  /** What the program gave (resource validations see these). */
  inputs: Record<string, any>;
  /** What the provider returned (stack validations see these). */
  outputs: Record<string, any>;
  parent?: string;
  dependencies: string[];
  propertyDependencies: Record<string, string[]>;
  deleteBeforeReplace?: boolean;
}

interface Registration {
  urn?: string;
  parent: string;
  dependencies: string[];
  propertyDependencies: Record<string, string[]>;
  deleteBeforeReplace?: boolean;
}

/**
 * Loads index.ts under mocks with `config` and returns its resources with URNs and dependencies.
 * Call once per test file (Pulumi's runtime state is per process).
 */
export async function loadStack(config: Record<string, unknown> = {}, options: { stack?: string } = {}): Promise<StackResource[]> {
  const mocked: MockedStack = await setupPulumiMocks(config, options);
  const registrations = new Map<string, Registration>();
  const settings = require("@pulumi/pulumi/runtime/settings") as { getMonitor(): any };
  const monitor = settings.getMonitor();
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, callback: (err: unknown, resp: any) => void) => {
    const propertyDependencies: Record<string, string[]> = {};
    for (const [key, deps] of req.getPropertydependenciesMap().entries()) propertyDependencies[key] = deps.getUrnsList();
    const registration: Registration = {
      parent: req.getParent(),
      dependencies: req.getDependenciesList(),
      propertyDependencies,
      ...(req.getDeletebeforereplacedefined() ? { deleteBeforeReplace: req.getDeletebeforereplace() } : {}),
    };
    registrations.set(`${req.getType()}::${req.getName()}`, registration);
    return register(req, (err: unknown, resp: any) => {
      if (resp) registration.urn = resp.getUrn();
      callback(err, resp);
    });
  };
  await import("../../index.js");
  await settle();
  return mocked.resources.map((r) => {
    const registration = registrations.get(`${r.type}::${r.name}`);
    if (!registration?.urn) throw new Error(`no registration recorded for ${r.type} ${r.name}`);
    const { urn, parent, ...rest } = registration;
    return { type: r.type, name: r.name, urn, inputs: r.inputs, outputs: r.state, ...(parent ? { parent } : {}), ...rest };
  });
}

/** A violation as `pulumi preview` lists it. */
export interface Violation {
  policy: string;
  level: EnforcementLevel;
  message: string;
  urn: string;
}

class NotApplicable extends Error {}

const isStackPolicy = (p: Policy): p is StackValidationPolicy => typeof (p as StackValidationPolicy).validateStack === "function";

/** What `getConfig` returns to a policy: its configured properties, without the enforcement level. */
function configOf(config: PolicyPackConfig, name: string): object {
  const entry = config[name];
  if (entry === undefined || typeof entry === "string") return {};
  const { enforcementLevel: _, ...properties } = entry;
  return properties;
}

function levelOf(config: PolicyPackConfig, policy: Policy): EnforcementLevel {
  const entry = config[policy.name];
  const configured = typeof entry === "string" ? entry : entry?.enforcementLevel;
  return configured ?? policy.enforcementLevel ?? PACK_ENFORCEMENT_LEVEL;
}

const typeCheck = (type: string) => (resourceClass: unknown) => (resourceClass as { __pulumiType?: string }).__pulumiType === type;

function resourceArgs(r: StackResource, config: object): ResourceValidationArgs {
  return {
    type: r.type,
    props: r.inputs,
    urn: r.urn,
    name: r.name,
    opts: {
      protect: false,
      ignoreChanges: [],
      aliases: [],
      customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
      additionalSecretOutputs: [],
      ...(r.deleteBeforeReplace === undefined ? {} : { deleteBeforeReplace: r.deleteBeforeReplace }),
      ...(r.parent ? { parent: r.parent } : {}),
    },
    stackTags: new Map(),
    isType: typeCheck(r.type),
    asType: ((resourceClass: unknown) => (typeCheck(r.type)(resourceClass) ? r.inputs : undefined)) as ResourceValidationArgs["asType"],
    getConfig: <T extends object>() => config as T,
    notApplicable: (reason?: string): never => {
      throw new NotApplicable(reason);
    },
  };
}

/** The stack as stack validations see it: outputs, with parents and dependencies resolved to resources. */
function policyResources(resources: readonly StackResource[]): PolicyResource[] {
  const byUrn = new Map<string, PolicyResource>();
  const out = resources.map((r) => {
    const resource = { type: r.type, props: r.outputs, urn: r.urn, name: r.name, opts: resourceArgs(r, {}).opts, dependencies: [], propertyDependencies: {}, isType: typeCheck(r.type), asType: () => undefined } as unknown as PolicyResource;
    byUrn.set(r.urn, resource);
    return resource;
  });
  const resolve = (urns: readonly string[]) => urns.map((u) => byUrn.get(u)).filter((d): d is PolicyResource => d !== undefined);
  resources.forEach((r, i) => {
    const resource = out[i]!;
    if (r.parent && byUrn.has(r.parent)) resource.parent = byUrn.get(r.parent);
    resource.dependencies = resolve(r.dependencies);
    resource.propertyDependencies = Object.fromEntries(Object.entries(r.propertyDependencies).map(([k, urns]) => [k, resolve(urns)]));
  });
  return out;
}

/** Every violation the pack reports for these resources under `config` (`--policy-pack-config`). */
export async function runPack(resources: readonly StackResource[], config: PolicyPackConfig = {}): Promise<Violation[]> {
  const violations: Violation[] = [];
  for (const policy of policies) {
    const level = levelOf(config, policy);
    if (level === "disabled") continue;
    const reportFor = (urn: string) => (message: string, reported?: string) => violations.push({ policy: policy.name, level, message, urn: reported ?? urn });
    if (isStackPolicy(policy)) {
      await policy.validateStack(
        { resources: policyResources(resources), stackTags: new Map(), getConfig: <T extends object>() => configOf(config, policy.name) as T, notApplicable: (r?: string): never => { throw new NotApplicable(r); } },
        reportFor(""),
      );
      continue;
    }
    const validations = [(policy as ResourceValidationPolicy).validateResource ?? []].flat();
    for (const r of resources) {
      for (const validate of validations) {
        try {
          await validate(resourceArgs(r, configOf(config, policy.name)), reportFor(r.urn));
        } catch (e) {
          if (!(e instanceof NotApplicable)) throw e;
        }
      }
    }
  }
  return violations;
}

/** The resources with one resource's inputs and outputs changed (deep copies: the loaded stack stays intact). */
export function variant(resources: readonly StackResource[], name: string, change: (props: Record<string, any>, resource: StackResource) => void): StackResource[] {
  if (!resources.some((r) => r.name === name)) throw new Error(`no resource named ${name}`);
  return resources.map((r) => {
    if (r.name !== name) return r;
    // Cloned apart: the mocks' outputs share nested objects with the inputs.
    const copy = { ...structuredClone(r), inputs: structuredClone(r.inputs), outputs: structuredClone(r.outputs) };
    change(copy.inputs, copy);
    change(copy.outputs, copy);
    return copy;
  });
}

/** The resources without the one named `name` (as if the program no longer declared it). */
export function without(resources: readonly StackResource[], name: string): StackResource[] {
  if (!resources.some((r) => r.name === name)) throw new Error(`no resource named ${name}`);
  return resources.filter((r) => r.name !== name);
}

/** The one resource of `type` whose name ends with `suffix`. */
export function named(resources: readonly StackResource[], type: string, suffix: string): StackResource {
  const found = resources.filter((r) => r.type === type && r.name.endsWith(suffix));
  if (found.length !== 1) throw new Error(`expected one ${type} named *${suffix}, found ${found.map((r) => r.name).join(", ") || "none"}`);
  return found[0]!;
}
