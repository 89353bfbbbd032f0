import { describe, expect, it } from "vitest";
import { exportPlan } from "../../src/telemetryPlan.ts";

describe("exportPlan", () => {
  it("exports nothing without settings, or when the SDK is disabled", () => {
    expect(exportPlan({})).toEqual({});
    expect(
      exportPlan({
        OTEL_SDK_DISABLED: "true",
        APPLICATIONINSIGHTS_CONNECTION_STRING: "InstrumentationKey=x",
      }),
    ).toEqual({});
  });

  it("sends every signal to Application Insights when its connection string is set, OTLP settings or not", () => {
    const all = { traces: "azure-monitor", metrics: "azure-monitor", logs: "azure-monitor" };
    expect(exportPlan({ APPLICATIONINSIGHTS_CONNECTION_STRING: "InstrumentationKey=x" })).toEqual(all);
    expect(
      exportPlan({
        APPLICATIONINSIGHTS_CONNECTION_STRING: "InstrumentationKey=x",
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
      }),
    ).toEqual(all);
  });

  it("sends every signal by OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set", () => {
    expect(exportPlan({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" })).toEqual({
      traces: "otlp",
      metrics: "otlp",
      logs: "otlp",
    });
  });

  it("sends a signal by OTLP when its own endpoint is set, or its exporter variable names otlp", () => {
    expect(exportPlan({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: "http://collector:4318/v1/metrics" })).toEqual({
      metrics: "otlp",
    });
    expect(exportPlan({ OTEL_LOGS_EXPORTER: "console, otlp" })).toEqual({ logs: "otlp" });
    // Traces: NodeSDK also offers console and zipkin exporters.
    expect(exportPlan({ OTEL_TRACES_EXPORTER: "console" })).toEqual({ traces: "otlp" });
  });

  it("leaves out a signal whose exporter variable says none, or names no OTLP exporter", () => {
    expect(
      exportPlan({
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
        OTEL_TRACES_EXPORTER: "none",
        OTEL_LOGS_EXPORTER: "console",
      }),
    ).toEqual({ metrics: "otlp" });
  });
});
