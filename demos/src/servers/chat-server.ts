// The chat room of the classic socket tutorial, on one selector instead of a
// thread per client. Every line a client sends goes to every other member,
// prefixed with the sender's name. Each message is queued to all receivers in
// one pass over the room, so every receiver sees the same order. A receiver
// that stops reading only grows its own bounded queue; past the bound it is
// disconnected and the room is told, so it never stalls the others.
import { EVENT_READ, EVENT_WRITE, type BaseSelector } from 'iomux';
import type { Socket } from 'iomux';
import { LineSplitter } from '../common/lines';
import { SendQueue } from '../common/send-queue';
import { acceptBurst, formatAddress, selectOrStop, isPeerGone, listenOn, openSelector } from '../common/serve';

export interface ChatOptions {
  host?: string;
  port?: number;
  backend?: string;
  /** Longest accepted line in bytes, without its newline. */
  maxLine?: number;
  maxClients?: number;
  /** Bytes queued for one client before it counts as too slow and is disconnected. */
  maxBacklog?: number;
  /** How long a client that typed /quit gets to read its last bytes. */
  lingerMs?: number;
  log?: (event: ChatEvent) => void;
}

export type ChatEvent =
  | { event: 'join'; name: string; peer: string; clients: number }
  | { event: 'leave'; name: string; reason: 'quit' | 'closed' | 'error' | 'too slow'; clients: number }
  | { event: 'nick'; from: string; to: string }
  | { event: 'refused'; peer: string; reason: string }
  | { event: 'accept-paused'; code: string };

export interface ChatSummary {
  clientsServed: number;
  peakClients: number;
  messages: number;
  evicted: number;
  refused: number;
  bytesIn: number;
  bytesOut: number;
}

const NAME_RE = /^[A-Za-z0-9_-]{1,24}$/;
const RECV_SIZE = 64 * 1024;
const ACCEPT_BURST = 64;

class Client {
  readonly id: number;
  readonly sock: Socket;
  readonly peer: string;
  readonly lines: LineSplitter;
  readonly out = new SendQueue();
  name: string;
  /** Registered for EVENT_WRITE too (its queue is not empty). */
  writing = false;
  /** Left the room (/quit or shutdown); the socket stays until its queue drains or the deadline. */
  closingSince = 0;
  gone = false;

  constructor(id: number, sock: Socket, peer: string, maxLine: number) {
    this.id = id;
    this.sock = sock;
    this.peer = peer;
    this.name = `guest${id}`;
    this.lines = new LineSplitter(maxLine);
  }
}

export class ChatServer {
  readonly backend: string;
  readonly address: [string, number];
  readonly maxLine: number;
  readonly maxClients: number;
  readonly maxBacklog: number;
  readonly #lingerMs: number;
  readonly #sel: BaseSelector<Client | null>;
  readonly #listener: Socket;
  readonly #log: (e: ChatEvent) => void;
  // Members in join order: the order broadcasts are queued in.
  readonly #room = new Map<number, Client>();
  readonly #closing = new Set<Client>();
  readonly #dirty = new Set<Client>();
  readonly #slow: Client[] = [];
  #nextId = 1;
  #acceptPausedUntil = 0;
  #recvBuf = Buffer.allocUnsafe(RECV_SIZE);
  readonly stats: ChatSummary = { clientsServed: 0, peakClients: 0, messages: 0, evicted: 0, refused: 0, bytesIn: 0, bytesOut: 0 };

  constructor(opts: ChatOptions = {}) {
    this.maxLine = opts.maxLine ?? 1024;
    this.maxClients = opts.maxClients ?? 1000;
    this.maxBacklog = opts.maxBacklog ?? 256 * 1024;
    this.#lingerMs = opts.lingerMs ?? 5000;
    this.#log = opts.log ?? (() => {});
    this.#sel = openSelector<Client | null>(opts.backend);
    this.backend = this.#sel.backend;
    try {
      this.#listener = listenOn(opts.host ?? '127.0.0.1', opts.port ?? 8802);
      this.#sel.register(this.#listener, EVENT_READ, null);
    } catch (err) {
      this.#sel.close();
      throw err;
    }
    this.address = this.#listener.getsockname() as [string, number];
  }

  get clients(): number {
    return this.#room.size;
  }

  /** Runs until the signal aborts; then says goodbye to everyone, closes, and returns the totals. */
  async serve(signal?: AbortSignal): Promise<ChatSummary> {
    try {
      while (!signal?.aborted) {
        const ready = await selectOrStop(this.#sel, this.#timeout(), signal);
        if (ready === null) break;
        for (const [key, mask] of ready) {
          const c = key.data;
          if (c === null) this.#acceptSome();
          else if (!c.gone && (mask & EVENT_READ) !== 0) this.#readFrom(c);
          // EVENT_WRITE needs no handler of its own: the client is flushed below.
          if (c !== null && !c.gone && (mask & EVENT_WRITE) !== 0) this.#dirty.add(c);
          this.#evictSlow();
        }
        this.#flushAll();
        this.#expire();
      }
      this.#shutdown();
    } finally {
      this.close();
    }
    return { ...this.stats };
  }

  /** Closes every socket and the selector. Idempotent. */
  close(): void {
    for (const c of [...this.#room.values(), ...this.#closing]) this.#drop(c);
    this.#listener.close();
    this.#sel.close();
  }

  #timeout(): number | null {
    let t = Infinity;
    const now = performance.now();
    if (this.#acceptPausedUntil > 0) t = Math.min(t, this.#acceptPausedUntil - now);
    for (const c of this.#closing) t = Math.min(t, c.closingSince + this.#lingerMs - now);
    return t === Infinity ? null : Math.max(0, t);
  }

  #acceptSome(): void {
    const failed = acceptBurst(this.#listener, ACCEPT_BURST, (sock, peer) => this.#admit(sock, formatAddress(peer)));
    if (!failed) return;
    if (!failed.outOfFds) throw failed.error;
    this.#sel.unregister(this.#listener);
    this.#acceptPausedUntil = performance.now() + 100;
    this.#log({ event: 'accept-paused', code: failed.code });
  }


  #admit(sock: Socket, peer: string): void {
    sock.setBlocking(false);
    if (this.#room.size >= this.maxClients) {
      // Nothing was read from it yet, so closing right after this send is a clean FIN.
      try {
        sock.send(Buffer.from(`* the room is full (${this.maxClients} clients); try again later\n`));
      } catch {
        // the peer is already gone: nothing to tell
      }
      sock.close();
      this.stats.refused++;
      this.#log({ event: 'refused', peer, reason: 'room full' });
      return;
    }
    const c = new Client(this.#nextId++, sock, peer, this.maxLine);
    try {
      this.#sel.register(sock, EVENT_READ, c);
    } catch (err) {
      // select() cannot watch fds >= FD_SETSIZE: refuse this one, keep serving.
      sock.close();
      this.stats.refused++;
      this.#log({ event: 'refused', peer, reason: (err as Error).message });
      return;
    }
    while (this.#nameTaken(c.name)) c.name = `guest${this.#nextId++}`;
    const others = this.#room.size;
    this.#broadcast(`* ${c.name} joined\n`);
    this.#room.set(c.id, c);
    this.stats.clientsServed++;
    this.stats.peakClients = Math.max(this.stats.peakClients, this.#room.size);
    this.#send(
      c,
      `* welcome, ${c.name}. ${others} other${others === 1 ? '' : 's'} here. ` +
        `Commands: /nick NAME, /who, /quit. Lines are limited to ${this.maxLine} bytes.\n`,
    );
    this.#log({ event: 'join', name: c.name, peer, clients: this.#room.size });
  }

  #readFrom(c: Client): void {
    let n: number | null;
    try {
      n = c.sock.recvInto(this.#recvBuf);
    } catch (err) {
      if (!isPeerGone(err)) throw err;
      return this.#leave(c, 'error');
    }
    if (n === null) return;
    if (n === 0) return this.#leave(c, 'closed');
    this.stats.bytesIn += n;
    if (c.closingSince > 0) return; // after /quit the rest is ignored
    // recvInto reuses one buffer: the splitter copies what it keeps.
    for (const ev of c.lines.push(Buffer.from(this.#recvBuf.subarray(0, n)))) {
      if (c.gone || c.closingSince > 0) return;
      if ('tooLong' in ev) {
        this.#send(c, `* error: line too long (limit ${this.maxLine} bytes); it was discarded\n`);
      } else {
        this.#onLine(c, ev.line);
      }
    }
  }

  #onLine(c: Client, line: string): void {
    if (line.startsWith('/')) return this.#command(c, line);
    if (line.trim() === '') return;
    this.stats.messages++;
    this.#broadcast(`${c.name}: ${line}\n`, c);
  }

  #command(c: Client, line: string): void {
    const [cmd, ...args] = line.trim().split(/\s+/);
    switch (cmd) {
      case '/nick': {
        const name = args[0];
        if (args.length !== 1 || !NAME_RE.test(name)) {
          return this.#send(c, '* error: usage /nick NAME (1-24 letters, digits, _ or -)\n');
        }
        if (/^guest\d+$/i.test(name) && name.toLowerCase() !== c.name.toLowerCase()) {
          return this.#send(c, '* error: guestN names are given out by the server\n');
        }
        if (name === c.name) return this.#send(c, `* you are already ${name}\n`);
        if (this.#nameTaken(name, c)) return this.#send(c, `* error: the name ${name} is taken\n`);
        const from = c.name;
        c.name = name;
        this.#broadcast(`* ${from} is now known as ${name}\n`);
        this.#log({ event: 'nick', from, to: name });
        return;
      }
      case '/who': {
        const names = [...this.#room.values()].map((m) => m.name);
        return this.#send(c, `* in the room (${names.length}): ${names.join(', ')}\n`);
      }
      case '/quit':
        this.#send(c, '* bye\n');
        return this.#leave(c, 'quit');
      default:
        return this.#send(c, `* error: unknown command ${cmd}; commands are /nick NAME, /who, /quit\n`);
    }
  }

  #nameTaken(name: string, except?: Client): boolean {
    const lower = name.toLowerCase();
    for (const m of this.#room.values()) if (m !== except && m.name.toLowerCase() === lower) return true;
    return false;
  }

  // Queued to every member in join order: that loop is what makes the order identical for all receivers.
  #broadcast(text: string, except?: Client): void {
    const data = Buffer.from(text);
    for (const m of this.#room.values()) if (m !== except) this.#queue(m, data);
  }

  #send(c: Client, text: string): void {
    this.#queue(c, Buffer.from(text));
  }

  #queue(c: Client, data: Buffer): void {
    if (c.gone) return;
    c.out.push(data);
    this.#dirty.add(c);
    if (c.out.size > this.maxBacklog && c.closingSince === 0 && !this.#slow.includes(c)) this.#slow.push(c);
  }

  // Disconnects the clients that fell too far behind. Their notice is itself a
  // broadcast, so it can push another client over the bound: loop until none.
  #evictSlow(): void {
    while (this.#slow.length > 0) {
      const c = this.#slow.shift() as Client;
      if (c.gone || !this.#room.has(c.id)) continue;
      // Try once more: the kernel may have made room since the bound was passed.
      if (this.#tryFlush(c) && c.out.size <= this.maxBacklog) continue;
      if (c.gone) continue;
      this.stats.evicted++;
      this.#room.delete(c.id);
      this.#drop(c);
      this.#broadcast(`* ${c.name} was disconnected (too slow: more than ${this.maxBacklog} bytes behind)\n`);
      this.#log({ event: 'leave', name: c.name, reason: 'too slow', clients: this.#room.size });
    }
  }

  #leave(c: Client, reason: 'quit' | 'closed' | 'error'): void {
    if (!this.#room.delete(c.id)) {
      this.#drop(c);
      return;
    }
    this.#broadcast(`* ${c.name} left\n`);
    this.#log({ event: 'leave', name: c.name, reason, clients: this.#room.size });
    if (reason === 'quit') {
      // Let it read "* bye"; it stops receiving the room's messages now.
      c.closingSince = performance.now();
      this.#closing.add(c);
      try {
        this.#sel.modify(c.sock, EVENT_WRITE, c);
        c.writing = true;
      } catch {
        this.#drop(c);
      }
    } else {
      this.#drop(c);
    }
  }

  #drop(c: Client): void {
    if (c.gone) return;
    c.gone = true;
    this.#dirty.delete(c);
    this.#closing.delete(c);
    this.#room.delete(c.id);
    c.out.clear();
    try {
      this.#sel.unregister(c.sock);
    } catch {
      // not registered (refused before registration) or selector closed
    }
    c.sock.close();
  }

  // Sends what the kernel takes now; false if bytes remain (or the client is gone).
  #tryFlush(c: Client): boolean {
    const before = c.out.size;
    let done: boolean;
    try {
      done = c.out.flush(c.sock);
    } catch (err) {
      this.stats.bytesOut += before - c.out.size;
      if (!isPeerGone(err)) throw err;
      if (this.#room.has(c.id)) this.#leave(c, 'error');
      else this.#drop(c);
      return false;
    }
    this.stats.bytesOut += before - c.out.size;
    return done;
  }

  #flushAll(): void {
    for (const c of this.#dirty) {
      this.#dirty.delete(c);
      if (c.gone) continue;
      const done = this.#tryFlush(c);
      if (c.gone) continue;
      if (done && c.closingSince > 0) {
        this.#drop(c);
      } else if (done === c.writing) {
        c.writing = !done;
        const events = c.closingSince > 0 ? EVENT_WRITE : done ? EVENT_READ : EVENT_READ | EVENT_WRITE;
        this.#sel.modify(c.sock, events, c);
      }
      this.#evictSlow();
    }
  }

  #expire(): void {
    const now = performance.now();
    if (this.#acceptPausedUntil > 0 && now >= this.#acceptPausedUntil) {
      this.#acceptPausedUntil = 0;
      this.#sel.register(this.#listener, EVENT_READ, null);
    }
    for (const c of this.#closing) if (now - c.closingSince >= this.#lingerMs) this.#drop(c);
  }

  // A last notice, sent only as far as each kernel buffer takes it without waiting.
  #shutdown(): void {
    const bye = Buffer.from('* the server is shutting down\n');
    for (const c of this.#room.values()) {
      c.out.push(bye);
      this.#tryFlush(c);
    }
  }
}
