/**
 * The one screen redrawn in place on a terminal, for `watch` (and `submit --watch`) and a local `run`:
 * the cursor hidden while it lives, each drawing written over the last (the cursor moved up over it,
 * CSI n F), every line cleared to its end (CSI K) and what is left of the last drawing below cleared
 * (CSI J), the cursor shown again at the end. Lines are cut to the terminal's width (a wrapped line would
 * break the next redraw), except in a last drawing meant to stay whole.
 */
import { fit } from "./format";
import type { Terminal } from "./context";

const CSI = "\x1b[";

/** How a drawing is written. */
export interface DrawOptions {
  /** Lines printed once above the screen, where the last drawing was (`run --follow`); they scroll away. */
  above?: readonly string[];
  /** Cut each line to the terminal's width (default); false for a last drawing that stays on the screen. */
  fit?: boolean;
}

export class LiveScreen {
  /** Lines of the last drawing. */
  private drawn = 0;
  private hidden = false;

  /**
   * `printsAbove`: lines are printed above this screen (a local run's `--follow`); they are written
   * without a line clear, so the last drawing is cleared first. Otherwise each drawing overwrites the last
   * line by line and clears only what is left below it, so the screen never goes blank between two.
   */
  constructor(
    private readonly term: Pick<Terminal, "out" | "columns">,
    private readonly options: { printsAbove: boolean },
  ) {}

  draw(lines: readonly string[], { above = [], fit: cut = true }: DrawOptions = {}): void {
    let text = this.hidden ? "" : `${CSI}?25l`;
    this.hidden = true;
    if (this.drawn > 0) text += `${CSI}${this.drawn}F${this.options.printsAbove ? `${CSI}J` : ""}`;
    for (const line of above) text += `${line}\n`;
    for (const line of lines) text += `${cut ? fit(line, this.term.columns) : line}${CSI}K\n`;
    this.term.out(this.options.printsAbove ? text : `${text}${CSI}J`);
    this.drawn = lines.length;
  }

  /** Shows the cursor again, if a drawing hid it. */
  close(): void {
    if (this.hidden) this.term.out(`${CSI}?25h`);
  }
}
