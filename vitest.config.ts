import { defineConfig } from "vitest/config";

// One test command for the whole repository. Integration suites start what they need themselves
// (Azurite, the emulators) on free loopback ports, so files can run in parallel.
// Unit tests (test/unit/: no I/O, no mocks, no environment changes) share their workers
// (isolate: false): a fresh worker per file costs ~2 s on this 2-core machine, more than most
// of those files take to run. Integration files keep a worker each.
export default defineConfig({
  test: {
    exclude: ["**/node_modules/**", "**/dist/**", ".local/**"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    reporters: ["default"],
    projects: [
      { extends: true, test: { name: "unit", include: ["**/test/unit/**/*.test.ts"], isolate: false } },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["**/test/**/*.test.ts"],
          exclude: ["**/node_modules/**", "**/dist/**", ".local/**", "**/test/unit/**"],
        },
      },
    ],
  },
});
