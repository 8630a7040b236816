import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['ir/**/*.test.ts', 'compiler/**/*.test.ts', 'backends/**/*.test.ts', 'runtime-sim/**/*.test.ts', 'examples/**/*.test.ts', 'tests/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
