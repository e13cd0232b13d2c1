/**
 * Does the trigger start a run for this key? The one predicate: the trigger (functions/objectEvents.ts)
 * applies it to every record, and the CLI to what it uploads (`submit`), plans (`plan`) and runs (`run`).
 *
 * Serialized into the inline Lambda: no imports.
 */

/** What the stack's trigger filters on (`trigger.prefix`, `trigger.suffix`, `trigger.outputPrefix`). */
export interface TriggerKeyFilter {
  /** Keys must start with it (`trigger.prefix`; "" takes every key). */
  prefix: string;
  /** Keys must end with it (`trigger.suffix`; "" takes every key). */
  suffix: string;
  /** Keys under it are the pipeline's own outputs, never a new run ("" or undefined: none). */
  outputPrefix?: string;
}

/**
 * Why the trigger starts no run for a key, in the order it checks: `ignored-prefix` (under the output
 * prefix, so the pipeline never triggers itself), `outside-prefix`, `outside-suffix` (S3's notification
 * filter never sends those: such a record was forged or mis-routed), `folder-marker` (what the S3 console's
 * "Create folder" writes).
 */
export type KeyRejection = "ignored-prefix" | "outside-prefix" | "outside-suffix" | "folder-marker";

/** The trigger's rule a rejection stands for, naming the config key and its value (for messages). */
export function keyRejectionRule(rejection: KeyRejection, filter: TriggerKeyFilter): string {
  switch (rejection) {
    case "ignored-prefix":
      return `it is under trigger.outputPrefix ${JSON.stringify(filter.outputPrefix)}, which the trigger ignores so the pipeline never triggers itself`;
    case "outside-prefix":
      return `it is not under trigger.prefix ${JSON.stringify(filter.prefix)}`;
    case "outside-suffix":
      return `it does not end with trigger.suffix ${JSON.stringify(filter.suffix)}`;
    case "folder-marker":
      return 'it ends in "/" and is empty: the trigger ignores such "Create folder" markers';
  }
}

/**
 * Why the trigger would start no run for `key` (of `sizeBytes`; undefined when not known yet, which skips
 * the folder-marker rule), or undefined when it would.
 *
 * A folder marker: the S3 console's "Create folder" writes a zero-byte object whose key is the folder's
 * prefix and the `/` delimiter (S3 user guide, "Naming Amazon S3 objects"), and S3 reports it as an
 * ObjectCreated event like any other: it holds nothing to process. Both conditions are needed: an object
 * whose key ends in `/` but that has content is data someone uploaded (S3 keys may end in `/`), so it still
 * runs. (Inline, not a function of its own: each function serialized into the Lambda costs its upload.)
 */
export function keyRejection(key: string, sizeBytes: number | undefined, filter: TriggerKeyFilter): KeyRejection | undefined {
  if (filter.outputPrefix && key.startsWith(filter.outputPrefix)) return "ignored-prefix";
  if (!key.startsWith(filter.prefix)) return "outside-prefix";
  if (!key.endsWith(filter.suffix)) return "outside-suffix";
  if (sizeBytes === 0 && key.endsWith("/")) return "folder-marker";
  return undefined;
}
