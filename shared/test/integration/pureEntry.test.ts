// The pure entry of @qcs/shared loads no Azure SDK, fastify or OpenTelemetry SDK: a fresh Node
// process imports it with a resolve hook that records every module it loads.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const HOOK = `
import { registerHooks } from "node:module";
const loaded = new Set();
registerHooks({
  resolve(specifier, context, nextResolve) {
    const result = nextResolve(specifier, context);
    loaded.add(result.url);
    return result;
  },
});
process.on("exit", () => process.stdout.write(JSON.stringify([...loaded])));
`;

async function modulesLoadedBy(entry: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      "--import",
      `data:text/javascript,${encodeURIComponent(HOOK)}`,
      "--input-type=module",
      "-e",
      `await import(${JSON.stringify(entry)});`,
    ],
    { cwd: new URL("../..", import.meta.url).pathname },
  );
  return JSON.parse(stdout) as string[];
}

const HEAVY = [/node_modules\/@azure\//, /node_modules\/fastify\//, /node_modules\/@opentelemetry\/sdk-/];

describe("@qcs/shared entries", () => {
  it("loads no Azure SDK, fastify or OpenTelemetry SDK through the pure entry", async () => {
    const loaded = await modulesLoadedBy("@qcs/shared");
    // The hook saw the entry's own modules, so an empty answer cannot pass.
    expect(loaded.some((url) => url.endsWith("/shared/src/contracts/schemas.ts"))).toBe(true);
    expect(loaded.filter((url) => HEAVY.some((pattern) => pattern.test(url)))).toEqual([]);
  });

  it("loads them through the runtime entry (the check above can see them)", async () => {
    const loaded = await modulesLoadedBy("@qcs/shared/runtime");
    for (const pattern of HEAVY) expect(loaded.some((url) => pattern.test(url))).toBe(true);
  });
});
