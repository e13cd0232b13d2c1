/**
 * The csv-stats example's record ownership (examples/csv-stats/csv.mjs), in-process over in-memory
 * inputs: for every chunk size, the tasks together see every record exactly once (the header only by
 * task 0), whatever the line endings, a missing final newline, records longer than a chunk or than a
 * tail read; and the CSV subset it reads, with the errors it gives for what it cannot read.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { generateCsv, lineStarts } from "./csvFixture";

interface Line {
  offset: number;
  bytes: Buffer;
}
type ReadRange = (first: number, last: number) => AsyncIterable<Buffer>;
interface CsvModule {
  taskRange(index: number, chunkBytes: number, size: number): { start: number; end: number };
  ownedLines(read: ReadRange, range: { start: number; end: number; size: number; tailBytes?: number }): AsyncIterable<Line[]>;
  parseFields(line: string, offset: number): string[];
  statsOf(lines: AsyncIterable<Line[]>, options: { header: boolean }): Promise<{ header: string[] | null; fields: number | null; rows: number; blankLines: number; columns: { numbers: number; sum: number; empty: number; other: number }[] }>;
  BadInput: new (message: string) => Error;
  emptyColumn(): { numbers: number; other: number };
  addField(column: { numbers: number; other: number }, field: string): void;
}

let csv: CsvModule;
beforeAll(async () => {
  csv = (await import(pathToFileURL(join(__dirname, "../../examples/csv-stats/csv.mjs")).href)) as CsvModule;
});

/** Reads `bytes` as S3 would serve ranges, in pieces of `piece` bytes; records every range asked for. */
function memoryReader(bytes: Buffer, piece: number, ranges: [number, number][] = []): ReadRange {
  return async function* (first, last) {
    ranges.push([first, last]);
    for (let at = first; at <= Math.min(last, bytes.length - 1); at += piece) yield bytes.subarray(at, Math.min(at + piece, last + 1));
  };
}

/** The lines of {@link CsvModule.ownedLines}' batches, in order. */
async function collect(batches: AsyncIterable<Line[]>): Promise<Line[]> {
  const out: Line[] = [];
  for await (const batch of batches) {
    if (batch.length === 0) expect(batch.length, "a batch of no lines").toBeGreaterThan(0);
    out.push(...batch);
  }
  return out;
}

/** Every task's lines, in task order, for chunks of `chunkBytes`. */
async function allTasks(bytes: Buffer, chunkBytes: number, tailBytes: number, piece: number): Promise<Line[]> {
  const tasks = Math.max(1, Math.ceil(bytes.length / chunkBytes));
  const lines: Line[] = [];
  for (let i = 0; i < tasks; i++) {
    const { start, end } = csv.taskRange(i, chunkBytes, bytes.length);
    lines.push(...(await collect(csv.ownedLines(memoryReader(bytes, piece), { start, end, size: bytes.length, tailBytes }))));
  }
  return lines;
}

describe("csv-stats: which task owns which record", () => {
  it.each([
    ["\\n line ends and a final newline", generateCsv(30, { seed: 3 }).bytes],
    ["\\r\\n line ends", generateCsv(30, { seed: 4, eol: "\r\n" }).bytes],
    ["no final newline", generateCsv(30, { seed: 5, finalNewline: false }).bytes],
    ["a header longer than most chunks", Buffer.from(`${"h".repeat(300)},b\n1,2\n3,4\n`)],
    ["one record", Buffer.from("a,b\n")],
  ])("with %s, every chunk size gives every line to exactly one task, in order", async (_what, bytes) => {
    const text = bytes.toString("latin1");
    // Each line as [offset, text without its line end]: what every chunk size must give, in order.
    const expected = lineStarts(bytes).map((offset) => {
      const end = text.indexOf("\n", offset);
      return [offset, text.slice(offset, end === -1 ? undefined : end).replace(/\r$/, "")];
    });
    // One comparison per chunk size (thousands of them): the lines of every task, compared whole.
    for (let chunkBytes = 1; chunkBytes <= bytes.length + 1; chunkBytes++) {
      const lines = await allTasks(bytes, chunkBytes, chunkBytes % 2 === 0 ? 16 : 64 * 1024, 1 + (chunkBytes % 7));
      const actual = lines.map((l) => [l.offset, l.bytes.toString("latin1")]);
      if (JSON.stringify(actual) !== JSON.stringify(expected)) expect(actual, `chunks of ${chunkBytes} bytes`).toEqual(expected);
    }
  });

  it("reads from the byte before its range, and past its end only until its last record ends, a tail at a time", async () => {
    const bytes = Buffer.from("id,v\n1,aaaaaaaaaaaaaaaaaaaaaaaa\n2,b\n");
    const ranges: [number, number][] = [];
    const lines = await collect(csv.ownedLines(memoryReader(bytes, 4, ranges), { start: 10, end: 20, size: bytes.length, tailBytes: 8 }));
    // Bytes 10..19 hold the middle of record 1 (it starts at 5, task 0's): nothing starts there.
    expect({ lines, ranges }).toEqual({ lines: [], ranges: [[9, 19]] });
    ranges.length = 0;
    const owned = await collect(csv.ownedLines(memoryReader(bytes, 4, ranges), { start: 0, end: 10, size: bytes.length, tailBytes: 8 }));
    expect(owned.map((l) => l.bytes.toString())).toEqual(["id,v", "1,aaaaaaaaaaaaaaaaaaaaaaaa"]);
    expect(ranges).toEqual([[0, 9], [10, 17], [18, 25], [26, 33]]);
  });

  it("covers the whole object with ranges of chunkBytes, and gives tasks past the end an empty range", () => {
    expect([0, 1, 2, 3].map((i) => csv.taskRange(i, 40, 100))).toEqual([{ start: 0, end: 40 }, { start: 40, end: 80 }, { start: 80, end: 100 }, { start: 120, end: 100 }]);
  });
});

describe("csv-stats: the CSV it reads", () => {
  it.each([
    ["a,b,c", ["a", "b", "c"]],
    ['"a, b",c', ["a, b", "c"]],
    ['"say ""hi""",', ['say "hi"', ""]],
    [",,", ["", "", ""]],
    ['""', [""]],
  ])("reads %j as %j", (line, fields) => expect(csv.parseFields(line, 0)).toEqual(fields));

  it.each([
    ['1,"open', /^the record at byte 7 has a quoted field that does not end on its line: quoted fields cannot hold newlines here$/],
    ['"a"b,c', /^the record at byte 7 has text after a closing quote \(field 1\)$/],
  ])("refuses %j as bad input", (line, message) => {
    expect(() => csv.parseFields(line, 7)).toThrow(csv.BadInput);
    expect(() => csv.parseFields(line, 7)).toThrow(message);
  });

  const statsOfText = (text: string, header: boolean) => {
    const bytes = Buffer.from(text);
    return csv.statsOf(csv.ownedLines(memoryReader(bytes, 5), { start: 0, end: bytes.length, size: bytes.length }), { header });
  };

  it("counts rows, blank lines, numbers, empty fields and text per column; the header is not a row", async () => {
    const stats = await statsOfText("a,b\n1,x\n\n2.5,\n-3,4\n", true);
    expect(stats).toMatchObject({ header: ["a", "b"], fields: 2, rows: 3, blankLines: 1 });
    expect(stats.columns).toEqual([
      { numbers: 3, sum: 0.5, min: -3, max: 2.5, empty: 0, other: 0 },
      { numbers: 1, sum: 4, min: 4, max: 4, empty: 1, other: 1 },
    ]);
  });

  it("refuses a row whose field count differs, naming its byte, and an input without a header", async () => {
    await expect(statsOfText("a,b\n1,2\n3\n", true)).rejects.toThrow("the record at byte 8 has 1 fields, the header 2");
    await expect(statsOfText("1,2\n3\n", false)).rejects.toThrow("the record at byte 4 has 1 fields, the rows before it 2");
    await expect(statsOfText("", true)).rejects.toThrow("the input has no header line: a CSV starts with its column names");
  });
});

describe("addField: numbers and not-numbers", () => {
  it("reads the numbers it should; a long run of digits and a letter is text (the pattern is linear: measured in the note, not timed here)", () => {
    const { addField, emptyColumn } = csv;
    const column = emptyColumn();
    addField(column, `${"1".repeat(200_000)}x`);
    for (const text of ["1", "1.", "1.5", ".5", "-1e5", "+2.5E-3"]) addField(column, text);
    for (const text of ["1.2.3", "e5", ".", "--1"]) addField(column, text);
    expect(column).toMatchObject({ numbers: 6, other: 5 });
  });
});
