/**
 * Config key paths: written as `pulumi config set --path` takes them, parsed back from a top-level key
 * spelled like one, and looked up in the schema, so an unknown key is told what it may have meant (a
 * typo, a key of another `network.mode`, or a nested key set without `--path`). Reads zod's schema
 * definitions (`_zod.def`, the internals zod.dev/library-authors describes for tools built on zod 4).
 */
import type { z } from "zod";

/** A key path below the namespace: the top-level key, then object keys and list indexes. */
export type Path = readonly PropertyKey[];
type Schema = z.core.$ZodType;

// A path segment Pulumi's `--path` syntax can take as `.name`; anything else is written `["name"]`.
const PLAIN_SEGMENT = /^[^.[\]"\s]+$/;

/** `<namespace>:<top>.<a>[0]["b c"]`: the top-level key as it is, the rest in `pulumi config set --path` syntax. */
export function configKey(namespace: string, path: Path): string {
  const [top, ...rest] = path;
  const tail = rest.map((p) => (typeof p === "number" ? `[${p}]` : PLAIN_SEGMENT.test(String(p)) ? `.${String(p)}` : `[${JSON.stringify(String(p))}]`));
  return `${namespace}:${String(top ?? "")}${tail.join("")}`;
}

/** The value at `path` in `root`, undefined when there is none. */
export function valueAt(root: unknown, path: Path): unknown {
  let current: unknown = root;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

const WRAPPERS = new Set(["default", "prefault", "optional", "nullable", "nonoptional", "readonly", "catch"]);

function unwrap(schema: Schema): Schema {
  let s = schema;
  for (;;) {
    const def = s._zod.def as { type: string; innerType?: Schema; in?: Schema };
    if (WRAPPERS.has(def.type) && def.innerType) s = def.innerType;
    else if (def.type === "pipe" && def.in) s = def.in;
    else return s;
  }
}

/** The schemas a child key of `schema` may have (several under a union); none when it has no such key. */
function childSchemas(schema: Schema, key: PropertyKey): Schema[] {
  const s = unwrap(schema);
  const def = s._zod.def as { type: string; shape?: Record<string, Schema>; valueType?: Schema; element?: Schema; options?: Schema[] };
  switch (def.type) {
    case "object":
      return typeof key === "string" && Object.hasOwn(def.shape!, key) ? [def.shape![key]!] : [];
    case "record":
      return [def.valueType!];
    case "array":
      return typeof key === "number" ? [def.element!] : [];
    case "union":
      return def.options!.flatMap((o) => childSchemas(o, key));
    case "unknown":
    case "any":
      return [s]; // Anything goes below (the workflow, checked by its own parser).
    default:
      return [];
  }
}

/** Whether `path` names a key the schema has (records and free-form values take any key). */
function hasKey(schema: Schema, path: Path): boolean {
  return schemasAt(schema, path).length > 0;
}

function schemasAt(schema: Schema, path: Path): Schema[] {
  let current = [schema];
  for (const key of path) current = current.flatMap((s) => childSchemas(s, key));
  return current;
}

/** The kinds of value the schema takes at `path` (`string`, `number`, …; `unknown` below the workflow). */
function kindsAt(schema: Schema, path: Path): Set<string> {
  return new Set(schemasAt(schema, path).map((s) => (unwrap(s)._zod.def as { type: string }).type));
}

type UnionDef = { type: "union"; options: Schema[]; discriminator?: string };
type ObjectDef = { type: "object"; shape: Record<string, Schema> };

/** The values of a discriminated union's variant for its discriminator (`mode: new`). */
function discriminatorValues(option: Schema, discriminator: string): unknown[] {
  const literal = (unwrap(option)._zod.def as Partial<ObjectDef>).shape?.[discriminator];
  return (literal?._zod.def as { values?: unknown[] } | undefined)?.values ?? [];
}

/**
 * The keys of the object at `path`; under a discriminated union, the keys of the variant `value` picks,
 * and in `elsewhere` the discriminator values of the variants that have `key` (a key of another mode).
 */
function keysAt(schema: Schema, path: Path, value: unknown, key?: string): { keys: string[]; elsewhere?: string } {
  let current = [schema];
  for (const k of path) current = current.flatMap((s) => childSchemas(s, k));
  const keys = new Set<string>();
  let elsewhere: string | undefined;
  const visit = (s: Schema) => {
    const def = unwrap(s)._zod.def as ObjectDef | UnionDef | { type: string };
    if (def.type === "object") Object.keys((def as ObjectDef).shape).forEach((k) => keys.add(k));
    if (def.type !== "union") return;
    const { options, discriminator } = def as UnionDef;
    const chosen = (value as Record<string, unknown> | undefined)?.[discriminator ?? ""];
    const picked = discriminator ? options.filter((o) => discriminatorValues(o, discriminator).includes(chosen)) : [];
    if (discriminator && key !== undefined && picked.length > 0) {
      const others = options.filter((o) => !picked.includes(o) && childSchemas(o, key).length > 0).flatMap((o) => discriminatorValues(o, discriminator));
      if (others.length > 0) elsewhere = `${discriminator}: ${others.join(" or ")}`;
    }
    (picked.length > 0 ? picked : options).forEach(visit);
  };
  current.forEach(visit);
  return { keys: [...keys], ...(elsewhere ? { elsewhere } : {}) };
}

/** Pulumi's path syntax (`a.b[0]["c.d"]`) as segments; undefined when `text` is not one. */
function parseConfigPath(text: string): PropertyKey[] | undefined {
  const segments: PropertyKey[] = [];
  const token = /\.?([^.[\]"]+)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]/y;
  for (let at = 0; at < text.length; at = token.lastIndex) {
    token.lastIndex = at;
    const m = token.exec(text);
    if (!m || (at === 0 && text.startsWith("."))) return undefined;
    segments.push(m[1] ?? (m[2] !== undefined ? Number(m[2]) : (JSON.parse(`"${m[3]}"`) as string)));
  }
  return segments;
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}

/** The keys near `key` (a typo: case, or at most two edits). */
function nearKeys(known: readonly string[], key: string): string[] {
  return known.filter((k) => k.toLowerCase() === key.toLowerCase() || editDistance(k, key) <= 2);
}

/** `path` with each segment the schema lacks replaced by its only near key; undefined when that is no key either. */
function correctedPath(schema: Schema, path: Path, raw: unknown): PropertyKey[] | undefined {
  const fixed: PropertyKey[] = [];
  for (const segment of path) {
    if (hasKey(schema, [...fixed, segment])) {
      fixed.push(segment);
      continue;
    }
    const near = typeof segment === "string" ? nearKeys(keysAt(schema, fixed, valueAt(raw, fixed)).keys, segment) : [];
    if (near.length !== 1) return undefined;
    fixed.push(near[0]!);
  }
  return fixed;
}

/** How to set a top-level key spelled like a nested path (set without `--path`), or the unknown-key rule. */
export function unknownKeyRule(schema: Schema | undefined, parent: Path, key: string, raw: unknown, namespace: string): string {
  const value = valueAt(raw, [...parent, key]);
  const setNested = (path: Path) =>
    value !== null && typeof value === "object"
      ? `write the value nested under ${configKey(namespace, path.slice(0, 1))} in the stack file`
      : `set the nested value with ${pulumiSetPath(configKey(namespace, [pathText(path)]), value, kindsAt(schema!, path))}`;
  const dotted = schema && parent.length === 0 && /[.[]/.test(key) ? parseConfigPath(key) : undefined;
  if (schema && dotted && dotted.length > 1) {
    const literal = configKey(namespace, [key]);
    if (hasKey(schema, dotted)) return `this sets a key literally named ${JSON.stringify(key)}; ${setNested(dotted)} and remove this one with pulumi config rm '${literal}'`;
    const fixed = correctedPath(schema, dotted, raw);
    if (fixed) return `unknown key, even as a nested path; did you mean ${pathText(fixed)}? ${setNested(fixed)} and remove this one with pulumi config rm '${literal}'`;
  }
  const { keys: known, elsewhere } = schema ? keysAt(schema, parent, valueAt(raw, parent), key) : { keys: [] };
  if (elsewhere) return `applies only with ${elsewhere} (the keys here are ${known.join(", ")})`;
  const near = nearKeys(known, key);
  if (near.length > 0) return `unknown key; did you mean ${near.join(" or ")}?`;
  return known.length > 0 ? `unknown key; the keys here are ${known.join(", ")}` : "unknown key; check the spelling against the config reference";
}

/** A path in `--path` syntax, without the namespace. */
function pathText(path: Path): string {
  return configKey("", path).slice(1);
}

/**
 * The `pulumi config set --path` command that stores `value` as the schema wants it (`kinds`). With
 * `--path`, Pulumi stores `true`/`false` as booleans, integers as numbers and everything else as a string
 * (`pulumi config set` reference), so a string key given `123` (a tag), or a fraction, needs `--type`; a
 * value starting with `-` goes after `--`, or it would read as a flag.
 */
function pulumiSetPath(key: string, value: unknown, kinds: ReadonlySet<string>): string {
  const text = String(value);
  const wantsString = kinds.has("string") || (!kinds.has("number") && !kinds.has("boolean") && typeof value === "string");
  const fraction = text.trim() !== "" && Number.isFinite(Number(text)) && !Number.isInteger(Number(text));
  const type = wantsString && /^(true|false)$|^-?[1-9]\d*$|^0$/.test(text) ? "--type string " : !wantsString && fraction ? "--type float " : "";
  return `pulumi config set --path ${type}'${key}' ${text.startsWith("-") ? "-- " : ""}${shellWord(text)}`;
}

function shellWord(text: string): string {
  return /^[A-Za-z0-9_./:@=+-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}
