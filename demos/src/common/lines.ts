// Splits a byte stream into lines with a length limit. A line longer than the
// limit is reported once, as soon as it is known to be too long (not at its
// newline), and its bytes are dropped up to the next newline, so a client that
// floods without newlines never grows the server's memory.
export type LineEvent = { line: string } | { tooLong: true };

export class LineSplitter {
  readonly maxLine: number;
  #partial: Buffer[] = [];
  #partialLen = 0;
  #discarding = false; // inside a line already reported as too long

  constructor(maxLine: number) {
    this.maxLine = maxLine;
  }

  /** Bytes of an unfinished line held. */
  get pending(): number {
    return this.#partialLen;
  }

  push(chunk: Buffer): LineEvent[] {
    const out: LineEvent[] = [];
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl < 0 ? chunk.length : nl;
      const piece = chunk.subarray(start, end);
      if (this.#discarding) {
        // dropped
      } else if (this.#partialLen + piece.length > this.maxLine + 1) {
        // +1: a trailing \r is not counted against the limit; it is checked again below.
        this.#discarding = true;
        this.#partial = [];
        this.#partialLen = 0;
        out.push({ tooLong: true });
      } else {
        this.#partial.push(piece);
        this.#partialLen += piece.length;
      }
      if (nl < 0) break;
      start = nl + 1;
      if (this.#discarding) {
        this.#discarding = false;
        continue;
      }
      let line = Buffer.concat(this.#partial, this.#partialLen);
      this.#partial = [];
      this.#partialLen = 0;
      if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
      if (line.length > this.maxLine) out.push({ tooLong: true });
      else out.push({ line: line.toString('utf8') });
    }
    return out;
  }
}
