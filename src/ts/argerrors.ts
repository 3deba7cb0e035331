// Argument errors, made here only: Node's codes on the classes the contract
// names (TypeError for a wrong type, RangeError for a value out of range).
// The addon makes its own the same way (src/native/errors.cc).

/** What a wrong argument type throws, before any syscall: a `TypeError` with a Node-style `code`. */
export interface ArgTypeError extends TypeError {
  /** `ERR_INVALID_ARG_TYPE` (a wrong type), or `ERR_INVALID_ARG_VALUE`. */
  code: 'ERR_INVALID_ARG_TYPE' | 'ERR_INVALID_ARG_VALUE';
}
/** What a value out of its range throws, before any syscall: a `RangeError` with a Node-style `code`. */
export interface ArgRangeError extends RangeError {
  /** `ERR_OUT_OF_RANGE` (a number out of its range), or `ERR_INVALID_ARG_VALUE` (not one of the accepted values). */
  code: 'ERR_OUT_OF_RANGE' | 'ERR_INVALID_ARG_VALUE';
}

function withCode<E extends Error>(err: E, code: string): E {
  Object.defineProperty(err, 'code', { value: code, enumerable: true, writable: true, configurable: true });
  return err;
}

/** A value of the wrong type (TypeError, ERR_INVALID_ARG_TYPE). */
export function invalidArgType(message: string): ArgTypeError {
  return withCode(new TypeError(message), 'ERR_INVALID_ARG_TYPE') as ArgTypeError;
}

/** A number out of its range (RangeError, ERR_OUT_OF_RANGE). */
export function outOfRange(message: string): ArgRangeError {
  return withCode(new RangeError(message), 'ERR_OUT_OF_RANGE') as ArgRangeError;
}

/** A value of the right type that is not one of the accepted ones (RangeError, ERR_INVALID_ARG_VALUE). */
export function invalidArgValue(message: string): ArgRangeError {
  return withCode(new RangeError(message), 'ERR_INVALID_ARG_VALUE') as ArgRangeError;
}
