/**
 * Trace export, loaded by `startTelemetry` only when the standard `OTEL_*` variables ask for it:
 * the trace SDK, its exporters and the Azure SDK instrumentation cost ~400 ms and ~40 MB at
 * start-up, which a replica that exports nothing should not pay. Further exporters (Azure Monitor)
 * belong here, behind the same check.
 */
import { createAzureSdkInstrumentation } from "@azure/opentelemetry-instrumentation-azure-sdk";
import { NodeSDK } from "@opentelemetry/sdk-node";

/** Starts the global tracer provider; NodeSDK reads OTEL_* itself (exporter, endpoint, sampler…). */
export function startTracing(serviceName: string): { shutdown(): Promise<void> } {
  // With tracing on, the Azure SDK instrumentation makes `@azure/service-bus` stamp each sent
  // message with a `Diagnostic-Id` (W3C traceparent).
  const sdk = new NodeSDK({ serviceName, instrumentations: [createAzureSdkInstrumentation()] });
  sdk.start();
  return sdk;
}
