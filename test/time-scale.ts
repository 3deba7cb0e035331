// How much longer a child process may take to start and finish than on a
// native machine: 1 here, more under emulation (scripts/platform/suite.sh sets
// IOMUX_TEST_TIME_SCALE for qemu and wine, where starting node takes seconds).
// It scales limits on waiting for a process, never a timing being asserted.
export const TIME_SCALE = Math.max(1, Number(process.env.IOMUX_TEST_TIME_SCALE) || 1);
