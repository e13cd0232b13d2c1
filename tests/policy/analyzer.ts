/**
 * Starts the policy pack the way the Pulumi CLI does for `pulumi preview --policy-pack policy`, and talks
 * to it as the engine does. The CLI reads policy/PulumiPolicy.yaml (runtime nodejs) and runs its
 * `pulumi-analyzer-policy` plugin in the pack's folder, which resolves `@pulumi/pulumi/cmd/run-policy-pack`
 * from there and runs it with node and the arguments `<engine address> .` (pkg/resource/plugin/analyzer_plugin.go,
 * NewPolicyAnalyzer). run-policy-pack registers ts-node with type checking, requires the folder, and
 * `new PolicyPack` prints the port of its Analyzer gRPC server on stdout.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { AnalyzerClient } from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as proto from "@pulumi/pulumi/proto/analyzer_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";

export const PACK_DIR = join(__dirname, "..", "..", "policy");

/** The string the engine sends for a value that is not known during preview (@pulumi/policy's proxy.js). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export interface RunningPack {
  client: AnalyzerClient;
  process: ChildProcess;
  /** Milliseconds from spawning to the port on stdout (ts-node compiles and type-checks the pack). */
  startMs: number;
  stop(): void;
}

/** Spawns the pack and connects to it; rejects with the pack's stderr if it exits or prints no port in time. */
export async function startPack(timeoutMs = 50_000): Promise<RunningPack> {
  const runPolicyPack = require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [PACK_DIR] });
  const started = Date.now();
  const child = spawn(process.execPath, [runPolicyPack, "127.0.0.1:1", "."], { cwd: PACK_DIR, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no port after ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
    child.stdout!.on("data", (d: Buffer) => {
      stdout += d.toString();
      const line = /^(\d+)\r?\n/.exec(stdout);
      if (line) {
        clearTimeout(timer);
        resolve(Number(line[1]));
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the pack exited with ${code}; stdout: ${stdout}; stderr: ${stderr}`));
    });
  });
  const client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return {
    client,
    process: child,
    startMs: Date.now() - started,
    stop: () => {
      client.close();
      child.kill();
    },
  };
}

const call = <Req, Res>(fn: (req: Req, cb: (err: grpc.ServiceError | null, res: Res) => void) => unknown, req: Req): Promise<Res> =>
  new Promise((resolve, reject) => fn(req, (err, res) => (err ? reject(err) : resolve(res))));

export function analyzerInfo(pack: RunningPack): Promise<proto.AnalyzerInfo> {
  return call(pack.client.getAnalyzerInfo.bind(pack.client), new Empty());
}

/** What `--policy-pack-config` sends: per policy an enforcement level and properties. */
export async function configure(pack: RunningPack, config: Record<string, { level: proto.EnforcementLevel; properties?: Record<string, unknown> }>): Promise<void> {
  const req = new proto.ConfigureAnalyzerRequest();
  for (const [name, { level, properties }] of Object.entries(config)) {
    req.getPolicyconfigMap().set(name, new proto.PolicyConfig().setEnforcementlevel(level).setProperties(Struct.fromJavaScript((properties ?? {}) as never)));
  }
  await call(pack.client.configure.bind(pack.client), req);
}

/** One resource as the engine describes it to an analyzer. */
export interface EngineResource {
  type: string;
  name: string;
  urn: string;
  properties: Record<string, unknown>;
  propertyDependencies?: Record<string, string[]>;
}

export interface Diagnostic {
  policy: string;
  level: proto.EnforcementLevel;
  message: string;
  urn: string;
}

const diagnostics = (res: proto.AnalyzeResponse): Diagnostic[] =>
  res.getDiagnosticsList().map((d) => ({ policy: d.getPolicyname(), level: d.getEnforcementlevel(), message: d.getMessage(), urn: d.getUrn() }));

/** Analyze: the resource validations of one resource's inputs, before the engine registers it. */
export async function analyze(pack: RunningPack, r: EngineResource): Promise<Diagnostic[]> {
  const req = new proto.AnalyzeRequest()
    .setType(r.type)
    .setName(r.name)
    .setUrn(r.urn)
    .setProperties(Struct.fromJavaScript(r.properties as never))
    .setOptions(new proto.AnalyzerResourceOptions());
  return diagnostics(await call(pack.client.analyze.bind(pack.client), req));
}

/** AnalyzeStack: the stack validations over every resource, at the end of a preview or update. */
export async function analyzeStack(pack: RunningPack, resources: readonly EngineResource[]): Promise<Diagnostic[]> {
  const req = new proto.AnalyzeStackRequest().setResourcesList(
    resources.map((r) => {
      const resource = new proto.AnalyzerResource()
        .setType(r.type)
        .setName(r.name)
        .setUrn(r.urn)
        .setProperties(Struct.fromJavaScript(r.properties as never))
        .setOptions(new proto.AnalyzerResourceOptions());
      for (const [key, urns] of Object.entries(r.propertyDependencies ?? {})) {
        resource.getPropertydependenciesMap().set(key, new proto.AnalyzerPropertyDependencies().setUrnsList(urns));
        resource.setDependenciesList([...resource.getDependenciesList(), ...urns]);
      }
      return resource;
    }),
  );
  return diagnostics(await call(pack.client.analyzeStack.bind(pack.client), req));
}
