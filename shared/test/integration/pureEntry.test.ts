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
    // The export SDKs load only when OTEL_* or APPLICATIONINSIGHTS_CONNECTION_STRING ask for them
    // (otlpExport.ts, azureMonitorExport.ts).
    const exporting = [
      /@opentelemetry\/sdk-node\//,
      /@opentelemetry\/sdk-trace/,
      /@opentelemetry\/sdk-logs\//,
      /@opentelemetry\/exporter-(metrics|trace|logs)-otlp/,
      /@opentelemetry\/otlp-/,
      /instrumentation-azure-sdk/,
      /@azure\/monitor-opentelemetry/,
      /\/shared\/src\/(otlpExport|azureMonitorExport)\.ts$/,
    ];
    expect(loaded.filter((url) => exporting.some((pattern) => pattern.test(url)))).toEqual([]);
  });
});
