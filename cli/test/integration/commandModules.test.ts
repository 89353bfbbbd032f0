// scanctl's commands other than `dev` load none of the local stack (emulators, Azurite): a fresh
// Node process imports scanctl's program with a hook that records every module it loads.
import { modulesLoadedBy } from "@qcs/test-support";
import { describe, expect, it } from "vitest";

const CLI = new URL("../..", import.meta.url).pathname;

// Concurrent: each test is one child process, so the two use both cores.
describe.concurrent("scanctl's modules", () => {
  it("loads no emulator, Azurite or local-stack module for its Azure commands", async () => {
    const loaded = await modulesLoadedBy("./src/main.ts", CLI);
    expect(loaded.some((url) => url.endsWith("/cli/src/commands/dlq.ts"))).toBe(true);
    const local = loaded.filter((url) =>
      /\/emulators\/src\/|node_modules\/azurite\/|\/cli\/src\/dev\//.test(url),
    );
    // portPlan and parentWatch are the dev command's option table and signal; no stack comes with them.
    expect(
      local.filter(
        (url) => !/\/cli\/src\/dev\/(core\/portPlan|adapters\/processes\/parentWatch)\.ts$/.test(url),
      ),
    ).toEqual([]);
  });

  it("loads the local stack for scanctl dev (the check above can see it)", async () => {
    const loaded = await modulesLoadedBy("./src/dev/runDev.ts", CLI);
    expect(loaded.some((url) => /\/emulators\/src\//.test(url))).toBe(true);
  });
});
