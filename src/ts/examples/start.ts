// What `npm start` runs until the echo server demo lands: a socketpair round trip
// through DefaultSelector, printed step by step.
import { DefaultSelector, EVENT_READ, EVENT_WRITE, socketpair } from '../index';

const [a, b] = socketpair();
a.setBlocking(false);
b.setBlocking(false);
const sel = new DefaultSelector<string>();
console.log(`iomux: DefaultSelector uses ${sel.backend}`);
sel.register(a, EVENT_WRITE, 'a');
sel.register(b, EVENT_READ, 'b');
for (const [key, mask] of sel.select(1000)) {
  if (key.data === 'a' && mask & EVENT_WRITE) console.log(`a is writable: sent ${a.send(Buffer.from('hello, iomux\n'))} bytes`);
}
for (const [key] of sel.select(1000)) {
  if (key.data === 'b') console.log(`b is readable: ${JSON.stringify(b.recv(64)?.toString())}`);
}
sel.close();
a.close();
b.close();
