// Errors the JS side raises itself. System errors are made by the addon
// (code/errno/syscall in one place); these helpers only name them.
import { constants } from 'node:os';
import { native } from './binding';

/** The codes of iomux's own errors: a closed object, a registration that exists already or does not, a second wait of the same kind on one socket. */
export type IomuxErrorCode = 'ERR_IOMUX_CLOSED' | 'ERR_IOMUX_ALREADY_REGISTERED' | 'ERR_IOMUX_NOT_REGISTERED' | 'ERR_IOMUX_BUSY';

/** An error of iomux's own (not a system error), told apart by its `code`. */
export interface IomuxError extends Error {
  /** Which one it is. */
  code: IomuxErrorCode;
}

export function iomuxError(code: IomuxErrorCode, message: string): IomuxError {
  const err = new Error(message) as IomuxError;
  err.code = code;
  return err;
}

/** The names of system errors (`'EBADF'`, `'EAGAIN'`, ...), as `os.constants.errno` has them: the `code` of a system error. */
export type SystemErrorCode = keyof typeof constants.errno;

/** A system error such as EBADF, shaped like every error the addon throws. */
export function systemError(code: SystemErrorCode, syscall: string): NodeJS.ErrnoException {
  return native.systemError(constants.errno[code], syscall);
}

/** The same, naming the address it concerns (an IP literal or a path: no look-up). */
export function systemErrorAt(code: SystemErrorCode, syscall: string, family: number, address: unknown): NodeJS.ErrnoException {
  return native.systemError(constants.errno[code], syscall, family, address);
}

/** What an aborted promise rejects with, as in Node's own APIs. */
export class AbortError extends Error {
  /** `'ABORT_ERR'`, as Node's own `AbortError`. */
  readonly code = 'ABORT_ERR';
  constructor(cause?: unknown) {
    super('The operation was aborted', cause === undefined ? undefined : { cause });
    this.name = 'AbortError';
  }
}
