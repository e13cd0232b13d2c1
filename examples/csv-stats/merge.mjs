/**
 * The `merge` step (after `stats`): reads every `parts/<index>.json` of this run (listed under the run's
 * output prefix), checks that they are the stats step's whole width and cover the whole input, and writes
 * `summary.json` beside them: the row count and, per column of the header, numeric count, sum, min, max
 * and mean, empty fields and other text.
 */
import { BadInput, combineColumns, emptyColumn, taskRange } from "./csv.mjs";
import { env, listOutputs, outputName, readOutput, run, writeOutput } from "./io.mjs";

/** Parts read at once. */
const CONCURRENCY = 16;

async function readParts(keys) {
  const parts = new Array(keys.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < keys.length; i = next++) {
      const text = await readOutput(keys[i]);
      try {
        parts[i] = JSON.parse(text);
      } catch (error) {
        throw new BadInput(`${outputName(keys[i])} is not JSON (${error.message})`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, keys.length) }, worker));
  return parts;
}

/** The parts, by index: every one of the stats step's tasks, for the same input, covering all of it. */
function checkParts(parts, where) {
  if (parts.length === 0) throw new BadInput(`no parts under ${where}: the stats step wrote none for this run`);
  const { taskCount, chunkBytes, size } = parts[0];
  // A part is data another job wrote: a step has at most 1,000,000 tasks (the pipeline's limit).
  if (!Number.isInteger(taskCount) || taskCount < 1 || taskCount > 1_000_000) {
    throw new BadInput(`part ${parts[0].index} under ${where} says ${JSON.stringify(taskCount)} tasks: not a step's width (1 to 1,000,000)`);
  }
  const byIndex = new Map();
  for (const part of parts) {
    if (part.taskCount !== taskCount || part.chunkBytes !== chunkBytes || part.size !== size) {
      throw new BadInput(`part ${part.index} says ${part.taskCount} tasks of ${part.chunkBytes} bytes over ${part.size}, part ${parts[0].index} ${taskCount} of ${chunkBytes} over ${size}: parts of different runs under ${where}`);
    }
    byIndex.set(part.index, part);
  }
  const missing = Array.from({ length: taskCount }, (_, i) => i).filter((i) => !byIndex.has(i));
  if (missing.length > 0) {
    throw new BadInput(`${missing.length} of ${taskCount} parts missing under ${where}: ${missing.slice(0, 20).join(", ")}${missing.length > 20 ? ", …" : ""} (the stats tasks with those indexes wrote nothing)`);
  }
  if (byIndex.size !== taskCount) throw new BadInput(`${byIndex.size} parts under ${where}, the stats step had ${taskCount} tasks`);
  if (taskCount * chunkBytes < size) throw new BadInput(`${taskCount} tasks of ${chunkBytes} bytes cover ${taskCount * chunkBytes} of ${size} bytes`);
  const ordered = [...byIndex.keys()].sort((a, b) => a - b).map((i) => byIndex.get(i));
  for (const part of ordered) {
    const { start } = taskRange(part.index, chunkBytes, size);
    if (part.range[0] !== start) throw new BadInput(`part ${part.index} covers bytes from ${part.range[0]}, expected ${start}`);
  }
  return ordered;
}

run("merge", async () => {
  const where = outputName("parts/");
  const keys = (await listOutputs("parts/")).filter((key) => /^parts\/\d+\.json$/.test(key));
  const parts = checkParts(await readParts(keys), where);
  const header = parts[0].header;
  if (!header) throw new BadInput(`part 0 has no header: ${outputName("parts/0.json")} was not written by task 0 of stats`);
  let columns = header.map(emptyColumn);
  let rows = 0;
  let blankLines = 0;
  for (const part of parts) {
    if (part.rows > 0 && part.fields !== header.length) throw new BadInput(`part ${part.index} has rows of ${part.fields} fields, the header ${header.length}`);
    if (part.rows > 0) columns = columns.map((column, i) => combineColumns(column, part.columns[i]));
    rows += part.rows;
    blankLines += part.blankLines;
  }
  const summary = {
    input: { bucket: env("PIPELINE_INPUT_BUCKET"), key: env("PIPELINE_INPUT_KEY"), versionId: process.env.PIPELINE_INPUT_VERSION_ID ?? "", size: parts[0].size },
    runId: process.env.PIPELINE_RUN_ID ?? "",
    parts: parts.length,
    rows,
    blankLines,
    columns: header.map((name, i) => ({ name, ...columns[i], mean: columns[i].numbers > 0 ? columns[i].sum / columns[i].numbers : null })),
  };
  await writeOutput("summary.json", `${JSON.stringify(summary, null, 2)}\n`);
  console.log(`merge: ${parts.length} parts, ${rows} rows, ${header.length} columns -> ${outputName("summary.json")}`);
});
