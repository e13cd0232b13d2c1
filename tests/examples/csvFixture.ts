/**
 * Generated CSV inputs for the csv-stats example (examples/csv-stats) and the statistics they must give,
 * computed from the generated values, not by parsing the file: a header, rows of varying length (so
 * records straddle any chunk boundary), quoted fields with commas and doubled quotes (never a newline:
 * the example cannot read those), empty fields, text in a numeric column, and numbers in quarters so
 * that every sum is exact whatever order the parts are added in.
 */

/** A cell as generated: a number, an empty field or text. */
type Cell = { number: number } | { empty: true } | { text: string };

export interface ColumnStats {
  name: string;
  numbers: number;
  sum: number;
  min: number | null;
  max: number | null;
  empty: number;
  other: number;
  mean: number | null;
}

export interface GeneratedCsv {
  text: string;
  bytes: Buffer;
  rows: number;
  /** What summary.json must say per column. */
  columns: ColumnStats[];
}

/** A small deterministic PRNG (mulberry32): the same seed, the same file. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HEADER = ["id", "city", "amount", "count", "note"];
const CITIES = ["Dublin", "Cork", "Galway", "Limerick, City", 'The "Big" Smoke', "Waterford", "Kilkenny"];

const quote = (text: string) => (/[",]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text);
const serialize = (cell: Cell) => ("number" in cell ? String(cell.number) : "text" in cell ? quote(cell.text) : "");

/** A CSV of `rows` rows (about 45 bytes each), lines ended by `eol`, with or without a final newline. */
export function generateCsv(rows: number, { seed = 1, eol = "\n", finalNewline = true }: { seed?: number; eol?: string; finalNewline?: boolean } = {}): GeneratedCsv {
  const next = random(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
  const table: Cell[][] = [];
  for (let i = 0; i < rows; i++) {
    table.push([
      { number: i + 1 },
      next() < 0.05 ? { empty: true } : { text: pick(CITIES) },
      next() < 0.1 ? { empty: true } : { number: Math.round((next() * 20_000 - 10_000) * 4) / 4 },
      next() < 0.03 ? { text: "n/a" } : { number: Math.floor(next() * 1000) },
      next() < 0.7 ? { empty: true } : { text: next() < 0.5 ? "checked, ok" : `${"x".repeat(Math.floor(next() * 120))} "note"` },
    ]);
  }
  const lines = [HEADER.join(","), ...table.map((row) => row.map(serialize).join(","))];
  const text = lines.join(eol) + (finalNewline ? eol : "");
  return { text, bytes: Buffer.from(text), rows, columns: HEADER.map((name, c) => columnStats(name, table.map((row) => row[c]!))) };
}

function columnStats(name: string, cells: Cell[]): ColumnStats {
  const numbers = cells.flatMap((cell) => ("number" in cell ? [cell.number] : []));
  const sum = numbers.reduce((a, b) => a + b, 0);
  return {
    name,
    numbers: numbers.length,
    sum,
    min: numbers.length > 0 ? numbers.reduce((a, b) => Math.min(a, b)) : null,
    max: numbers.length > 0 ? numbers.reduce((a, b) => Math.max(a, b)) : null,
    empty: cells.filter((cell) => "empty" in cell).length,
    other: cells.filter((cell) => "text" in cell).length,
    mean: numbers.length > 0 ? sum / numbers.length : null,
  };
}

/**
 * The summary.json the example must write for `csv`, given what only the run knows (the object's
 * names and the run id) and the stats step's width.
 */
export function expectedSummary(csv: GeneratedCsv, run: { bucket: string; key: string; versionId: string; runId: string; parts: number }) {
  return {
    input: { bucket: run.bucket, key: run.key, versionId: run.versionId, size: csv.bytes.length },
    runId: run.runId,
    parts: run.parts,
    rows: csv.rows,
    blankLines: 0,
    columns: csv.columns.map(({ name, numbers, sum, min, max, empty, other, mean }) => ({ name, numbers, sum, min, max, empty, other, mean })),
  };
}

/** Where each line starts (0 and after every `\n`, before the end): the records' first bytes, header included. */
export function lineStarts(bytes: Buffer): number[] {
  const starts = [0];
  for (let i = bytes.indexOf(10); i !== -1 && i + 1 < bytes.length; i = bytes.indexOf(10, i + 1)) starts.push(i + 1);
  return starts;
}
