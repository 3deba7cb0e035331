// `iomux chat` as a child process, driven by Node net clients and a python3
// socket client: broadcast content and order, /nick, /quit, notices, the line
// limit, the room cap, and the eviction of a client that never reads.
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LineSplitter, type LineEvent } from '../src/toolkit/lines';
import { LineClient, killDemos, startDemo, type Demo } from './fixtures/demo-proc';
import { eachBackend, HAS_PYTHON3, itPython3, WHY_NO_PYTHON3 } from './fixtures/platform';

const BRIDGE = path.join(__dirname, 'fixtures/line_bridge.py');
const clients: Array<{ close(): void }> = [];

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  killDemos();
});

async function join(demo: Demo): Promise<LineClient> {
  const c = await LineClient.connect(demo.port);
  clients.push(c);
  await c.waitLine(/^\* welcome, /);
  return c;
}

/** The python3 client (line_bridge.py) as a line client. */
class PyClient {
  readonly proc: ChildProcess;
  readonly lines: string[] = [];
  #partial = '';
  #waiters = new Set<() => void>();
  exited = false;

  constructor(port: number, slow = false) {
    this.proc = spawn('python3', [BRIDGE, String(port), ...(slow ? ['--slow'] : [])], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      this.#partial += d;
      const parts = this.#partial.split('\n');
      this.#partial = parts.pop()!;
      this.lines.push(...parts);
      for (const w of [...this.#waiters]) w();
    });
    this.proc.on('exit', () => {
      this.exited = true;
      for (const w of [...this.#waiters]) w();
    });
    clients.push(this);
  }

  send(text: string): void {
    this.proc.stdin!.write(text);
  }

  async waitLine(re: RegExp, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.lines.some((l) => re.test(l))) {
      const left = deadline - Date.now();
      if (left <= 0 || this.exited) throw new Error(`python client: no line matching ${re}; got ${JSON.stringify(this.lines.slice(-5))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        const w = () => { clearTimeout(t); this.#waiters.delete(w); resolve(); };
        this.#waiters.add(w);
      });
    }
  }

  close(): void {
    if (!this.exited) this.proc.kill('SIGKILL');
  }
}

/** Chat messages (not notices) among the lines. */
const messages = (lines: string[]) => lines.filter((l) => !l.startsWith('*') && !l.startsWith('#'));

describe('iomux chat', () => {
  it(`broadcasts each line to the others with the sender name, with join and leave notices${HAS_PYTHON3 ? '' : ` (third client on net: ${WHY_NO_PYTHON3})`}`, async () => {
    const demo = await startDemo('chat');
    const a = await join(demo);
    const b = await join(demo);
    await a.waitLine(/^\* guest\d+ joined$/);
    let netThird: LineClient | undefined;
    if (!HAS_PYTHON3) clients.push((netThird = await LineClient.connect(demo.port)));
    const py = netThird ?? new PyClient(demo.port);
    await py.waitLine(/^\* welcome, guest\d+\. 2 others here\./);
    await a.waitLine(/^\* guest3 joined$/);
    await b.waitLine(/^\* guest3 joined$/);

    a.send('hello from a\n');
    py.send('hello from python\r\n'); // CRLF is accepted as a line end
    await b.waitLine(/^guest1: hello from a$/);
    await b.waitLine(/^guest3: hello from python$/);
    await py.waitLine(/^guest1: hello from a$/);
    await a.waitLine(/^guest3: hello from python$/);
    // Nobody hears their own line back.
    expect(a.lines).not.toContain('guest1: hello from a');
    expect(py.lines).not.toContain('guest3: hello from python');

    b.close();
    await a.waitLine(/^\* guest2 left$/);
    await py.waitLine(/^\* guest2 left$/);

    const { code, summary } = await demo.stop();
    expect(code).toBe(0);
    expect(summary).toMatchObject({ clientsServed: 3, messages: 2, evicted: 0 });
    if (netThird) await netThird.until((ls) => netThird!.closed || ls.includes('* the server is shutting down'), 10_000, 'the shutdown notice or EOF');
    else await py.waitLine(/^(\* the server is shutting down|#eof)$/);
  });

  it('control characters and escape sequences from one client never reach another terminal', async () => {
    const demo = await startDemo('chat');
    const a = await join(demo);
    // The receiver's raw bytes, not lines: nothing may be lost in decoding.
    const raw: Buffer[] = [];
    const b = net.connect(demo.port, '127.0.0.1');
    b.on('data', (d) => raw.push(d));
    await a.waitLine(/^\* guest\d+ joined$/);
    const evil = [
      'red \x1b[31mALERT\x1b[0m done', // CSI (SGR)
      'title \x1b]0;pwned\x07 set', // OSC, BEL-terminated
      'clear \x1b[2J\x1b[H screen', // CSI erase + home
      'bell\x07 back\x08\x08space nul\x00 del\x7f', // C0 and DEL
      'c1 \u009b31m csi \u0085 nel', // C1 controls (UTF-8 encoded)
      'esc alone \x1bc reset',
      'tab\tstays',
    ];
    for (const line of evil) a.send(`${line}\n`);
    a.send('last\n');
    const text = await new Promise<string>((resolve) => {
      const check = () => {
        const t = Buffer.concat(raw).toString('utf8');
        if (t.includes(': last\n')) resolve(t);
        else setTimeout(check, 20);
      };
      check();
    });
    b.destroy();
    // Only printable text, tabs and the newlines that end lines.
    expect(text).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
    const got = text.split('\n').filter((l) => l.startsWith('guest'));
    expect(got).toEqual([
      'guest1: red ALERT done',
      'guest1: title  set',
      'guest1: clear  screen',
      'guest1: bell backspace nul del',
      'guest1: c1  csi  nel',
      'guest1: esc alone  reset',
      'guest1: tab\tstays',
      'guest1: last',
    ]);
    expect((await demo.stop()).code).toBe(0);
  });

  it('/nick renames (validated and unique), /who lists, /quit says bye, closes and tells the room', async () => {
    const demo = await startDemo('chat');
    const a = await join(demo);
    const b = await join(demo);
    a.send('/nick alice\n');
    await b.waitLine(/^\* guest1 is now known as alice$/);
    await a.waitLine(/^\* guest1 is now known as alice$/);
    b.send('/nick ALICE\n'); // unique regardless of case
    await b.waitLine(/^\* error: the name ALICE is taken$/);
    b.send('/nick bad name!\n');
    await b.waitLine(/^\* error: usage \/nick NAME/);
    b.send('/nick guest7\n');
    await b.waitLine(/^\* error: guestN names are given out by the server$/);
    b.send('/nick x'.padEnd(40, 'x') + '\n');
    await b.until((ls) => ls.filter((l) => l.startsWith('* error: usage /nick')).length === 2);
    b.send('/frobnicate\n');
    await b.waitLine(/^\* error: unknown command \/frobnicate/);
    b.send('/nick bob\n/who\n');
    await b.waitLine(/^\* in the room \(2\): alice, bob$/);
    a.send('hi bob\n');
    await b.waitLine(/^alice: hi bob$/);

    b.send('/quit\nthis line is after quit\n');
    await b.waitLine(/^\* bye$/);
    await b.waitClose();
    await a.waitLine(/^\* bob left$/);
    expect(a.lines.some((l) => l.includes('after quit'))).toBe(false);
    expect(demo.events.some((e) => e.event === 'nick' && e.from === 'guest1' && e.to === 'alice')).toBe(true);
    expect((await demo.stop()).code).toBe(0);
  });

  it('a line over --max-line gets an error notice and is discarded; the client stays', async () => {
    const demo = await startDemo('chat', ['--max-line', '100']);
    const a = await join(demo);
    const b = await join(demo);
    expect(a.lines[0]).toMatch(/Lines are limited to 100 bytes/);
    a.send(`${'x'.repeat(100)}\n`); // exactly the limit: delivered
    await b.waitLine(/^guest1: x{100}$/);
    a.send(`${'y'.repeat(101)}\n`);
    await a.waitLine(/^\* error: line too long \(limit 100 bytes\)/);
    // A megabyte without a newline, in pieces: one notice, nothing stored, nothing relayed.
    for (let i = 0; i < 16; i++) a.send('z'.repeat(65536));
    a.send('\nstill here\n');
    await b.waitLine(/^guest1: still here$/);
    expect(a.lines.filter((l) => l.startsWith('* error: line too long')).length).toBe(2);
    expect(messages(b.lines)).toEqual([`guest1: ${'x'.repeat(100)}`, 'guest1: still here']);
    await demo.stop();
  });

  itPython3('the same broadcast order for every receiver, with concurrent senders (net and python3)', async () => {
    const demo = await startDemo('chat');
    const senders = [await join(demo), await join(demo), await join(demo)]; // guest1..3
    const py = new PyClient(demo.port); // guest4: sends too, and receives everything from the others
    await py.waitLine(/^\* welcome, guest4/);
    await senders[2].waitLine(/^\* guest4 joined$/);
    const N = 200;
    // Every sender writes its lines in a few uneven bursts, all at once.
    for (let i = 0; i < N; i += 37) {
      for (const [k, s] of senders.entries()) {
        s.send(Array.from({ length: Math.min(37, N - i) }, (_, j) => `m${k + 1}-${i + j}\n`).join(''));
      }
      py.send(`p-${i}\n`);
    }
    const perReceiver = 3 * N - N + Math.ceil(N / 37); // two other net senders, plus python's lines
    for (const s of senders) await s.until((ls) => messages(ls).length >= perReceiver, 15_000, 'all messages');
    await py.waitLine(new RegExp(`^guest3: m3-${N - 1}$`), 15_000);
    await py.waitLine(new RegExp(`^guest1: m1-${N - 1}$`), 15_000);
    await py.waitLine(new RegExp(`^guest2: m2-${N - 1}$`), 15_000);

    const got = [...senders.map((s) => messages(s.lines)), messages(py.lines)];
    const names = ['guest1', 'guest2', 'guest3', 'guest4'];
    for (const [r, lines] of got.entries()) {
      // Each sender's lines arrive complete and in the order sent.
      for (const [k, name] of names.entries()) {
        if (k === r) continue;
        const mine = lines.filter((l) => l.startsWith(`${name}: `));
        expect(mine.length).toBe(k === 3 ? Math.ceil(N / 37) : N);
      }
    }
    // Any two receivers saw the messages they both received in the same order.
    for (let x = 0; x < got.length; x++) {
      for (let y = x + 1; y < got.length; y++) {
        const shared = (lines: string[]) => lines.filter((l) => !l.startsWith(`${names[x]}: `) && !l.startsWith(`${names[y]}: `));
        expect(shared(got[x])).toEqual(shared(got[y]));
        expect(shared(got[x]).length).toBeGreaterThan(N);
      }
    }
    await demo.stop();
  });

  itPython3('a client that never reads is disconnected with a notice; the others keep receiving everything', async () => {
    const demo = await startDemo('chat', ['--max-backlog', '65536']);
    const sender = await join(demo);
    const fast = [await join(demo), await join(demo)];
    const slow = new PyClient(demo.port, true); // guest4: never reads
    await slow.waitLine(/^#connected$/);
    await fast[1].waitLine(/^\* guest4 joined$/);

    // Flood until the room hears of the eviction: the kernel buffers take a few MB first.
    const line = (i: number) => `${String(i).padStart(8, '0')} ${'.'.repeat(990)}\n`;
    let sent = 0;
    const evicted = () => fast.every((f) => f.lines.some((l) => /^\* guest4 was disconnected \(too slow/.test(l)));
    const deadline = Date.now() + 20_000;
    while (!evicted()) {
      if (Date.now() > deadline) throw new Error(`no eviction after ${sent} lines`);
      const batch = Array.from({ length: 256 }, () => line(sent++)).join('');
      if (!sender.sock.write(batch)) await new Promise((r) => sender.sock.once('drain', r));
      // Let the fast readers keep up, so only the slow one falls behind.
      await Promise.all(fast.map((f) => f.until((ls) => messages(ls).length >= sent - 2048, 10_000, 'fast readers')));
    }
    sender.send('after the eviction\n');
    for (const f of fast) {
      await f.waitLine(/^guest1: after the eviction$/);
      const got = messages(f.lines);
      // Every line, in order, none lost while the slow client was dropped.
      expect(got.length).toBe(sent + 1);
      for (let i = 0; i < sent; i += 997) expect(got[i]).toBe(`guest1: ${line(i).slice(0, -1)}`);
      expect(got[sent - 1]).toBe(`guest1: ${line(sent - 1).slice(0, -1)}`);
    }
    // The sender hears the notice too; its socket may not have read it yet when the fast readers have.
    await sender.waitLine(/^\* guest4 was disconnected \(too slow: more than 65536 bytes behind\)$/);
    // The evicted client finds its connection closed once it reads.
    slow.send('read\n');
    await slow.waitLine(/^#read \d+ (eof|reset)$/, 20_000);
    const { summary } = await demo.stop();
    expect(summary).toMatchObject({ evicted: 1 });
  });

  it('--max-clients: an extra client is told the room is full and disconnected', async () => {
    const demo = await startDemo('chat', ['--max-clients', '2']);
    await join(demo);
    await join(demo);
    const third = await LineClient.connect(demo.port);
    clients.push(third);
    await third.waitClose();
    expect(third.lines).toEqual(['* the room is full (2 clients); try again later']);
    const { summary } = await demo.stop();
    expect(summary).toMatchObject({ refused: 1, clientsServed: 2 });
  });

  eachBackend(['select', 'poll', 'epoll'], 'a room of 150 on the %s backend', async (backend) => {
    const demo = await startDemo('chat', ['--backend', backend]);
    expect(demo.events[0]).toMatchObject({ event: 'listening', backend });
    const room = await Promise.all(Array.from({ length: 150 }, () => join(demo)));
    // Connections made at once are accepted in any order: each learns its name from the welcome.
    const nameOf = (c: LineClient) => /^\* welcome, (guest\d+)\./.exec(c.lines[0])![1];
    expect(new Set(room.map(nameOf)).size).toBe(150);
    const [first, last] = [room[0], room[149]];
    await Promise.all(room.map((c) => c.until((ls) => ls.length >= 1 + (150 - Number(nameOf(c).slice(5))), 10_000, 'join notices')));
    first.send('ping\n');
    last.send('pong\n');
    await Promise.all(room.slice(1).map((c) => c.waitLine(new RegExp(`^${nameOf(first)}: ping$`))));
    await Promise.all(room.slice(0, 149).map((c) => c.waitLine(new RegExp(`^${nameOf(last)}: pong$`))));
    for (const c of room.slice(75)) c.close();
    await first.until((ls) => ls.filter((l) => / left$/.test(l)).length === 75, 10_000, '75 leave notices');
    const { code, summary } = await demo.stop();
    expect(code).toBe(0);
    expect(summary).toMatchObject({ signal: 'SIGTERM', clientsServed: 150, peakClients: 150, messages: 2 });
  });

  it('bad options exit with status 2 and a message', async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number | null; err: string }>((resolve) => {
        const p = spawn(process.execPath, [path.resolve(__dirname, '../bin/iomux.js'), 'chat', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        p.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
        p.on('exit', (code) => resolve({ code, err }));
      });
    expect(await run(['--max-line', 'ten'])).toMatchObject({ code: 2, err: expect.stringContaining('--max-line') });
    expect(await run(['--backend', 'kqueue2'])).toMatchObject({ code: 2, err: expect.stringContaining('--backend') });
    expect(await run(['--bogus'])).toMatchObject({ code: 2, err: expect.stringContaining('unknown option --bogus') });
  });
});

describe('LineSplitter (the chat server\'s line framing)', () => {
  const input = Buffer.from(`hi\r\n${'a'.repeat(10)}\n${'b'.repeat(11)}\n${'c'.repeat(10)}\r\n\nnaïve ✓!\nnaïve ✓\n${'d'.repeat(30)}\nend\npartial`);
  const expected: LineEvent[] = [
    { line: 'hi' }, { line: 'a'.repeat(10) }, { tooLong: true }, { line: 'c'.repeat(10) }, { line: '' },
    { tooLong: true }, { line: 'naïve ✓' }, { tooLong: true }, { line: 'end' },
  ];

  it('gives the same lines and too-long reports at every split and byte by byte', () => {
    const run = (pieces: Buffer[]) => {
      const sp = new LineSplitter(10);
      return pieces.flatMap((p) => sp.push(p));
    };
    // The limit is in bytes: "naïve ✓!" is 8 characters but 11 bytes of UTF-8.
    expect(Buffer.byteLength('naïve ✓!')).toBe(11);
    expect(run([input])).toEqual(expected);
    for (let i = 1; i < input.length; i++) expect(run([input.subarray(0, i), input.subarray(i)]), `split at ${i}`).toEqual(expected);
    expect(run(Array.from(input, (_, i) => input.subarray(i, i + 1)))).toEqual(expected);
  });

  it('reports an overlong line as soon as it is known, and holds no more than the limit', () => {
    const sp = new LineSplitter(10);
    expect(sp.push(Buffer.from('x'.repeat(12)))).toEqual([{ tooLong: true }]);
    expect(sp.pending).toBe(0);
    expect(sp.push(Buffer.alloc(100_000, 0x79))).toEqual([]);
    expect(sp.pending).toBe(0);
    expect(sp.push(Buffer.from('\nok\n'))).toEqual([{ line: 'ok' }]);
  });
});
