// A connection's outbound bytes: what the kernel did not take yet. Chunks are
// kept as given (no copy on push) and coalesced only when flushed, so a burst
// of small writes becomes a few send(2) calls.
import type { Socket } from 'iomux';

const COALESCE = 64 * 1024;

export class SendQueue {
  #chunks: Buffer[] = [];
  #offset = 0; // bytes of #chunks[0] already sent
  #size = 0;

  /** Bytes waiting to be sent. */
  get size(): number {
    return this.#size;
  }

  push(data: Buffer): void {
    if (data.length === 0) return;
    this.#chunks.push(data);
    this.#size += data.length;
  }

  /**
   * Sends as much as the socket takes. Returns true when everything went.
   * Real send errors (EPIPE, ECONNRESET) are thrown for the caller to close on.
   */
  flush(sock: Socket): boolean {
    while (this.#size > 0) {
      const chunk = this.#coalesced();
      const n = sock.send(chunk, this.#offset);
      if (n === null) return false;
      this.#offset += n;
      this.#size -= n;
      if (this.#offset === chunk.length) {
        this.#chunks.shift();
        this.#offset = 0;
      } else {
        return false; // partial send: the kernel buffer is full
      }
    }
    return true;
  }

  clear(): void {
    this.#chunks = [];
    this.#offset = 0;
    this.#size = 0;
  }

  // Merges the leading small chunks into one so one send(2) carries them all.
  #coalesced(): Buffer {
    const first = this.#chunks[0];
    if (this.#chunks.length === 1 || first.length - this.#offset >= COALESCE) return first;
    let n = 1;
    let bytes = first.length - this.#offset;
    while (n < this.#chunks.length && bytes + this.#chunks[n].length <= COALESCE) bytes += this.#chunks[n++].length;
    if (n === 1) return first;
    const merged = Buffer.concat([first.subarray(this.#offset), ...this.#chunks.slice(1, n)], bytes);
    this.#chunks.splice(0, n, merged);
    this.#offset = 0;
    return merged;
  }
}
