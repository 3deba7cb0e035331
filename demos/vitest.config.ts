import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    testTimeout: 30000,
    hookTimeout: 30000,
    // Tests open many real sockets and time real waits: two forks match this machine's two cores.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
