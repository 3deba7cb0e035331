// FileLike: a non-negative integer fd, or an object with fileno().
import { invalidArgType, outOfRange } from './argerrors';
/** An object that stands for an fd, as in Python: `Socket`, or any of yours. */
export interface HasFileno {
  /** The fd it stands for. */
  fileno(): number;
}
/** What iomux waits on: a non-negative integer fd, or an object with `fileno()`. */
export type FileLike = number | HasFileno;

/** The fd behind a FileLike: TypeError for a wrong type, RangeError for a negative fd. */
export function toFd(fileobj: unknown): number {
  let fd: unknown = fileobj;
  if (typeof fileobj === 'object' && fileobj !== null && typeof (fileobj as HasFileno).fileno === 'function') {
    fd = (fileobj as HasFileno).fileno();
  } else if (typeof fileobj !== 'number') {
    throw invalidArgType(`expected an fd or an object with fileno(), got ${describe(fileobj)}`);
  }
  if (typeof fd !== 'number' || !Number.isInteger(fd)) {
    throw invalidArgType(`file descriptor must be an integer, got ${describe(fd)}`);
  }
  if (fd < 0) throw outOfRange(`file descriptor must be >= 0, got ${fd}`);
  return fd;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 20 ? v.slice(0, 20) + '…' : v)}`;
  return typeof v;
}
