// Where a response body goes while it arrives. Bodies the crawl parses (HTML,
// CSS) stay in the parser's memory, bounded by --max-body, because link
// extraction needs them whole; every other body goes through a StreamedBody:
// each received piece is written to the page's file (or only counted, with
// --no-save) and dropped, so an asset of any size costs one receive buffer.
import type { BodySink } from './http';
import type { FileWriter } from './output';

export class StreamedBody implements BodySink {
  bytes = 0;
  /** Where the complete body was saved. */
  file: string | undefined;
  /** Why it could not be saved (the response itself was fine). */
  error: Error | undefined;
  #writer: FileWriter | undefined;
  #kept: Buffer[] | undefined;

  /**
   * open: the file writer, called now; it may throw (the error is kept and the
   * body only counted). keep: also keep the body in memory, for callers that
   * compare bodies (CrawlOptions.keepBodies).
   */
  constructor(open: (() => FileWriter) | null, keep: boolean) {
    if (keep) this.#kept = [];
    if (open) {
      try {
        this.#writer = open();
      } catch (err) {
        this.error = err as Error;
      }
    }
  }

  write(part: Buffer): void {
    this.bytes += part.length;
    // A view of the receive buffer: copy what is kept (the writer is done with it on return).
    this.#kept?.push(Buffer.from(part));
    if (!this.#writer) return;
    try {
      this.#writer.write(part);
    } catch (err) {
      this.#fail(err as Error);
    }
  }

  end(): void {
    if (!this.#writer) return;
    try {
      this.file = this.#writer.commit();
    } catch (err) {
      this.error = err as Error;
    }
    this.#writer = undefined;
  }

  abort(): void {
    this.#writer?.discard();
    this.#writer = undefined;
    this.#kept = undefined;
  }

  /** The whole body, when it was kept. */
  body(): Buffer | undefined {
    return this.#kept && Buffer.concat(this.#kept);
  }

  #fail(err: Error): void {
    this.error = err;
    this.#writer?.discard();
    this.#writer = undefined;
  }
}
