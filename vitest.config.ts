import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Real-component tests (DNS servers, discv5 testnets, namespaces) hold ports and CPU: keep
    // parallelism modest on 2-core machines.
    maxWorkers: 2,
    reporters: ['default'],
    // Tests may only reach loopback: anything else throws (see the file).
    setupFiles: ['test/helpers/loopback-guard.ts'],
    env: {FORCE_COLOR: '0', NO_COLOR: '1'},
  },
})
