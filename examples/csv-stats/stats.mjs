/**
 * The `stats` step (`width: { perChunkBytes: N }`): the statistics of the records this task owns, written
 * to `parts/<index>.json` under the run's output prefix. Task i covers bytes
 * `[i * PIPELINE_CHUNK_BYTES, min((i + 1) * PIPELINE_CHUNK_BYTES, PIPELINE_INPUT_SIZE))` and owns every
 * record whose first byte is in that range (csv.mjs `ownedLines`); task 0's first line is the header.
 */
import { ownedLines, statsOf, taskRange } from "./csv.mjs";
import { envInt, input, outputName, rangeReader, run, taskIndex, writeOutput } from "./io.mjs";

run("stats", async () => {
  const index = taskIndex();
  const taskCount = envInt("PIPELINE_TASK_COUNT", { min: 1 });
  const chunkBytes = envInt("PIPELINE_CHUNK_BYTES", { min: 1, hint: "run stats as a step with `width: { perChunkBytes: N }`" });
  const object = input();
  const { start, end } = taskRange(index, chunkBytes, object.size);
  const read = { requests: 0, bytes: 0 };
  const stats = await statsOf(ownedLines(rangeReader(object, read), { start, end, size: object.size }), { header: index === 0 });
  const key = `parts/${index}.json`;
  const part = { index, taskCount, chunkBytes, size: object.size, range: [start, Math.max(start, end)], ...stats };
  await writeOutput(key, `${JSON.stringify(part)}\n`);
  const covered = end > start ? `bytes ${start}-${end - 1}` : "no bytes (past the end)";
  console.log(`stats task ${index} of ${taskCount}: ${covered} of ${object.name}, read ${read.bytes} bytes in ${read.requests} reads: ${stats.rows} rows -> ${outputName(key)}`);
});
