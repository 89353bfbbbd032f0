// The pure entry of @qcs/shared loads no Azure SDK, fastify or OpenTelemetry SDK: a fresh Node
// process imports it with a resolve hook that records every module it loads.
import { modulesLoadedBy } from "@qcs/test-support";
import { describe, expect, it } from "vitest";

const SHARED = new URL("../..", import.meta.url).pathname;
const HEAVY = [/node_modules\/@azure\//, /node_modules\/fastify\//, /node_modules\/@opentelemetry\/sdk-/];

describe("@qcs/shared entries", () => {
  it("loads no Azure SDK, fastify or OpenTelemetry SDK through the pure entry", async () => {
    const loaded = await modulesLoadedBy("@qcs/shared", SHARED);
    // The hook saw the entry's own modules, so an empty answer cannot pass.
    expect(loaded.some((url) => url.endsWith("/shared/src/contracts/schemas.ts"))).toBe(true);
    expect(loaded.filter((url) => HEAVY.some((pattern) => pattern.test(url)))).toEqual([]);
  });

  it("loads them through the runtime entry (the check above can see them)", async () => {
    const loaded = await modulesLoadedBy("@qcs/shared/runtime", SHARED);
    for (const pattern of HEAVY) expect(loaded.some((url) => pattern.test(url))).toBe(true);
    // The trace SDK and the Azure SDK instrumentation load only when OTEL_* asks for traces (tracing.ts).
    const tracing = [/@opentelemetry\/sdk-node\//, /@opentelemetry\/sdk-trace/, /instrumentation-azure-sdk/];
    expect(loaded.filter((url) => tracing.some((pattern) => pattern.test(url)))).toEqual([]);
  });
});
