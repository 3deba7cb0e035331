// Which platform the suite runs on, for tests of a mechanism that only some
// have: those are skipped elsewhere with the reason in their name
// (`describe.skipIf(!LINUX)('... (epoll is Linux-only)', ...)`), never dropped.
export const LINUX = process.platform === 'linux';
export const WINDOWS = process.platform === 'win32';
