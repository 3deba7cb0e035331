import { defineConfig } from 'vitest/config';

// The reliability soaks (npm run test:reliability), kept out of `npm test`:
// long, one file at a time so they do not compete for the two cores, and
// bounded by their own size knobs (RELIABILITY_QUICK=1 for CI).
export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/reliability/**/*.soak.ts'],
    testTimeout: 600_000,
    hookTimeout: 60_000,
    fileParallelism: false,
    poolOptions: { forks: { maxForks: 1, minForks: 1 } },
  },
});
