// Errors the JS side raises itself. System errors are made by the addon
// (code/errno/syscall in one place); these helpers only name them.
import { constants } from 'node:os';
import { native } from './binding';

export type IomuxErrorCode = 'ERR_IOMUX_CLOSED' | 'ERR_IOMUX_ALREADY_REGISTERED' | 'ERR_IOMUX_NOT_REGISTERED' | 'ERR_IOMUX_BUSY';

export interface IomuxError extends Error {
  code: IomuxErrorCode;
}

export function iomuxError(code: IomuxErrorCode, message: string): IomuxError {
  const err = new Error(message) as IomuxError;
  err.code = code;
  return err;
}

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
  readonly code = 'ABORT_ERR';
  constructor(cause?: unknown) {
    super('The operation was aborted', cause === undefined ? undefined : { cause });
    this.name = 'AbortError';
  }
}
