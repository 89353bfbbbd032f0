/**
 * Splits a child process's output stream into whole lines, so that each line can be prefixed with
 * the process's name even when a chunk ends in the middle of a line or holds several.
 */
export class LineSplitter {
  #partial = "";

  /** The complete lines in `chunk` (and before it); a trailing partial line is kept for later. */
  push(chunk: string): string[] {
    const text = this.#partial + chunk;
    const lines = text.split(/\r?\n/);
    this.#partial = lines.pop() ?? "";
    return lines;
  }

  /** What is left when the stream ends: the last line if it had no newline. */
  flush(): string[] {
    const rest = this.#partial;
    this.#partial = "";
    return rest.length > 0 ? [rest] : [];
  }
}

/** `name   | line`, with the name padded so that the bars of every process line up. */
export function prefixLine(
  name: string,
  width: number,
  line: string,
  paint: (name: string) => string,
): string {
  return `${paint(name.padEnd(width))} | ${line}`;
}
