// Instructions per sel.select(0), counted by callgrind (user space only, so a
// busy machine does not change them): run it under valgrind twice with two
// iteration counts and divide the difference of the totals by the difference
// of the counts (that cancels start-up and JIT warm-up).
//
//   valgrind --tool=callgrind --callgrind-out-file=a.out node scripts/bench/select-callgrind.js epoll select 20000
//   valgrind --tool=callgrind --callgrind-out-file=b.out node scripts/bench/select-callgrind.js epoll select 120000
//   (b − a) / 100000 = instructions per call; callgrind_annotate both for the split
//
// Arguments: backend (select|poll|epoll), what (select = sel.select(0),
// wait = the native wait(0) alone), iterations. One registered fd, ready (A = 1).
// IOMUX_ROOT loads another checkout (e.g. the main branch's) for a before/after.
const path = require('node:path');
const io = require(process.env.IOMUX_ROOT || path.resolve(__dirname, '..', '..'));
const cls = { epoll: io.EpollSelector, poll: io.PollSelector, select: io.SelectSelector }[process.argv[2]];
const [a, b] = io.socketpair();
const sel = new cls();
sel.register(a, io.EVENT_READ);
b.send(Buffer.from('x'));
const N = Number(process.argv[4]);
let s = 0;
if (process.argv[3] === 'select') for (let i = 0; i < N; i++) s += sel.select(0).length;
else for (let i = 0; i < N; i++) s += sel.native.wait(0);
if (s !== N) throw new Error(`expected one ready fd per call, got ${s / N}`);
