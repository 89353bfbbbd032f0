import { defineConfig } from "vitest/config";

// One test command for the whole repository. Integration suites start what they need themselves
// (Azurite, the emulators) on free loopback ports, so files can run in parallel.
export default defineConfig({
  test: {
    include: ["**/test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**", ".local/**"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    reporters: ["default"],
  },
});
