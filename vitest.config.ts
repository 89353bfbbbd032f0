import { join } from "node:path";
import { defineConfig } from "vitest/config";

// One test command for the whole repository. Integration suites start what they need themselves
// (the emulators) on free loopback ports, so files can run in parallel; they share one Azurite
// (vitest.globalSetup.ts), each on an account of its own.
// Unit tests (test/unit/: no I/O, no mocks, no environment changes) share their workers
// (isolate: false): a fresh worker per file costs ~2 s on this 2-core machine, more than most
// of those files take to run. Integration files keep a worker each.

// Node's compile cache for the workers and every process the tests spawn with this environment
// (services, emulators, scanctl, Azurite): a warm cache cuts a TypeScript entry's CPU by ~30 %.
process.env.NODE_COMPILE_CACHE ??= join(import.meta.dirname, ".local", "compile-cache");

const ALONE = [
  "services/scanner/test/integration/scannerService.test.ts",
  "services/scanner/test/integration/scannerProcess.test.ts",
];

export default defineConfig({
  test: {
    exclude: ["**/node_modules/**", "**/dist/**", ".local/**"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Vitest's default is one worker per core less one: a single worker on 2 cores, although
    // integration files mostly wait on sockets and child processes. Two halve the suite's time there.
    maxWorkers: 2,
    reporters: ["default"],
    projects: [
      { extends: true, test: { name: "unit", include: ["**/test/unit/**/*.test.ts"], isolate: false } },
      {
        extends: true,
        test: {
          name: "integration",
          globalSetup: ["./vitest.globalSetup.ts"],
          include: ["**/test/**/*.test.ts"],
          exclude: ["**/node_modules/**", "**/dist/**", ".local/**", "**/test/unit/**", ...ALONE],
        },
      },
      // Files whose deadlines (lock durations, grace periods, 20 s waits for a dead letter) missed
      // on a loaded machine with another file beside them: they run last, one at a time.
      { extends: true, test: { name: "integration-alone", include: ALONE, fileParallelism: false } },
    ],
  },
});
