/**
 * What a record is and which task owns it, and the statistics kept per column. Pure: the bytes come
 * from a `readRange(first, last)` function (io.mjs: a ranged S3 GET in AWS, the file locally).
 *
 * Records are lines: a record ends at `\n` (a `\r` before it is dropped). Fields are separated by `,`
 * and may be quoted (`"a, b"`, `""` for a quote inside), but a quoted field cannot hold a newline: a task
 * that starts reading in the middle of the file could not tell a quoted newline from a record's end.
 */

/** Bytes read past a task's range at a time to finish its last record. */
export const TAIL_BYTES = 64 * 1024;
/** A record longer than this is refused: a file without newlines is not a CSV this job reads. */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;

/** The input is not what this job reads (exit 1: retrying cannot help). */
export class BadInput extends Error {
  name = "BadInput";
}

/**
 * Task `index`'s bytes, `[start, end)`: `[index * chunkBytes, min((index + 1) * chunkBytes, size))`,
 * empty (`end <= start`) when `start` is past the end of the object.
 */
export function taskRange(index, chunkBytes, size) {
  const start = index * chunkBytes;
  return { start, end: Math.min(start + chunkBytes, size) };
}

/**
 * The lines task `[start, end)` owns, as `{ offset, bytes }` (the line's first byte in the object; the
 * bytes without `\n` or `\r\n`), in batches (one array per chunk read): every line whose first byte is in
 * `[start, end)`. A line starts at 0 and after each `\n`. So a task other than the first reads from
 * `start - 1` and drops everything up to the first `\n` (the end of the previous task's last record, or
 * just that `\n` when `start` begins a record), and every task reads past `end`, `TAIL_BYTES` at a time,
 * only to finish a record that starts before `end`. `readRange(first, last)` yields the bytes
 * `[first, last]` (inclusive, as an HTTP Range) in chunks.
 */
export async function* ownedLines(readRange, { start, end, size, tailBytes = TAIL_BYTES }) {
  if (start >= end) return;
  const line = (bytes) => (bytes.at(-1) === 13 ? bytes.subarray(0, -1) : bytes);
  let skipping = start > 0;
  let lineStart = start;
  let pending = [];
  let pendingBytes = 0;
  let from = skipping ? start - 1 : start;
  let to = end - 1;
  for (;;) {
    for await (const chunk of readRange(from, to)) {
      const batch = [];
      let at = 0;
      for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, at)) {
        if (skipping) skipping = false;
        else {
          const rest = chunk.subarray(at, nl);
          batch.push({ offset: lineStart, bytes: line(pending.length === 0 ? rest : Buffer.concat([...pending, rest])) });
        }
        pending = [];
        pendingBytes = 0;
        lineStart = from + nl + 1;
        at = nl + 1;
        // The next line starts at or past `end`: the next task's.
        if (lineStart >= end) {
          if (batch.length > 0) yield batch;
          return;
        }
      }
      if (batch.length > 0) yield batch;
      if (!skipping && at < chunk.length) {
        pending.push(chunk.subarray(at));
        pendingBytes += chunk.length - at;
        if (pendingBytes > MAX_RECORD_BYTES) throw new BadInput(`the record at byte ${lineStart} is longer than ${MAX_RECORD_BYTES} bytes: is the input a CSV with one record per line?`);
      }
      from += chunk.length;
    }
    // No line starts in [start, end): the previous task's last record covers the whole range.
    if (skipping) return;
    if (from !== to + 1) throw new Error(`read bytes up to ${from - 1}, expected up to ${to}: the object is shorter than its size`);
    if (from >= size) {
      // The last record of the object, with no newline after it.
      if (pendingBytes > 0) yield [{ offset: lineStart, bytes: line(Buffer.concat(pending)) }];
      return;
    }
    // A record straddles `end` (or the previous tail): read on until it ends.
    to = Math.min(from + tailBytes, size) - 1;
  }
}

/**
 * The fields of one line: `,`-separated, each optionally quoted (`"…"`, `""` for a quote). Throws
 * {@link BadInput} for a quote that is never closed (a quoted newline, which this job cannot read) or
 * text after a closing quote.
 */
export function parseFields(line, offset) {
  const fields = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let value = "";
      let j = i + 1;
      for (;;) {
        const quote = line.indexOf('"', j);
        if (quote === -1) throw new BadInput(`the record at byte ${offset} has a quoted field that does not end on its line: quoted fields cannot hold newlines here`);
        value += line.slice(j, quote);
        if (line[quote + 1] === '"') {
          value += '"';
          j = quote + 2;
        } else {
          i = quote + 1;
          break;
        }
      }
      fields.push(value);
      if (i === line.length) return fields;
      if (line[i] !== ",") throw new BadInput(`the record at byte ${offset} has text after a closing quote (field ${fields.length})`);
      i++;
    } else {
      const comma = line.indexOf(",", i);
      if (comma === -1) {
        fields.push(line.slice(i));
        return fields;
      }
      fields.push(line.slice(i, comma));
      i = comma + 1;
    }
  }
}

// Linear: `\d+(?:\.\d*)?` has one way to match a run of digits (`\d+\.?\d*` had many, and a hostile
// 80 KB field of digits took seconds to refuse).
const NUMBER = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/;

/** One column's statistics: numeric values (count, sum, min, max), empty fields, other text. */
export const emptyColumn = () => ({ numbers: 0, sum: 0, min: null, max: null, empty: 0, other: 0 });

/** Counts one field into its column. */
export function addField(column, field) {
  const text = field.trim();
  if (text === "") column.empty++;
  else if (NUMBER.test(text)) {
    const value = Number(text);
    column.numbers++;
    column.sum += value;
    column.min = column.min === null ? value : Math.min(column.min, value);
    column.max = column.max === null ? value : Math.max(column.max, value);
  } else column.other++;
}

/** Two columns' statistics as one. */
export function combineColumns(a, b) {
  const pick = (x, y, f) => (x === null ? y : y === null ? x : f(x, y));
  return {
    numbers: a.numbers + b.numbers,
    sum: a.sum + b.sum,
    min: pick(a.min, b.min, Math.min),
    max: pick(a.max, b.max, Math.max),
    empty: a.empty + b.empty,
    other: a.other + b.other,
  };
}

/**
 * The statistics of a task's lines (batches of {@link ownedLines}): the header (task 0's first line), the
 * rows, blank lines, and one column per field. Every row must have as many fields as the first one (merge
 * checks them against the header).
 */
export async function statsOf(lines, { header }) {
  const stats = { header: null, fields: null, rows: 0, blankLines: 0, columns: [] };
  let first = header;
  for await (const batch of lines) {
    for (const { offset, bytes } of batch) {
      if (first) {
        first = false;
        stats.header = parseFields(bytes.toString("utf8"), offset);
        stats.fields = stats.header.length;
        stats.columns = stats.header.map(emptyColumn);
      } else addRow(stats, bytes.toString("utf8"), offset);
    }
  }
  if (header && first) throw new BadInput("the input has no header line: a CSV starts with its column names");
  return stats;
}

/** Counts one line that is not the header into `stats`: a row, or a blank line. */
function addRow(stats, line, offset) {
  if (line.trim() === "") {
    stats.blankLines++;
    return;
  }
  const fields = parseFields(line, offset);
  if (stats.fields === null) {
    stats.fields = fields.length;
    stats.columns = fields.map(emptyColumn);
  } else if (fields.length !== stats.fields) {
    throw new BadInput(`the record at byte ${offset} has ${fields.length} fields, the ${stats.header ? "header" : "rows before it"} ${stats.fields}`);
  }
  for (let i = 0; i < fields.length; i++) addField(stats.columns[i], fields[i]);
  stats.rows++;
}
