/**
 * Export to Application Insights, loaded by `startTelemetry` only when
 * `APPLICATIONINSIGHTS_CONNECTION_STRING` is set: the Azure Monitor exporters of
 * `@azure/monitor-opentelemetry-exporter` (the exporters the Azure Monitor distro uses) on this
 * repository's OpenTelemetry SDK. Not the distro's `useAzureMonitor`: it brings OpenTelemetry JS 2
 * and API 1.9, whose global registrations the services' API 1.10 does not accept, so their tracer
 * and `context.with` would stay no-ops under it.
 */
import {
  AzureMonitorLogExporter,
  AzureMonitorMetricExporter,
  AzureMonitorTraceExporter,
} from "@azure/monitor-opentelemetry-exporter";
import { createAzureSdkInstrumentation } from "@azure/opentelemetry-instrumentation-azure-sdk";
import { logs } from "@opentelemetry/api";
import { BatchLogRecordProcessor, type LogRecordExporter } from "@opentelemetry/sdk-logs";
import type { PushMetricExporter } from "@opentelemetry/sdk-metrics";
import { NodeSDK } from "@opentelemetry/sdk-node";
import { BatchSpanProcessor, type SpanExporter } from "@opentelemetry/sdk-trace";
import { activateAzureSdkTracing } from "./azureSdkTracing.ts";
import { logLineSink } from "./logBridge.ts";
import { forwardLogLines } from "./logging.ts";

export interface AzureMonitorExport {
  metricExporter: PushMetricExporter;
  shutdown(): Promise<void>;
}

export function startAzureMonitorExport(serviceName: string, connectionString: string): AzureMonitorExport {
  const options = { connectionString };
  // The exporters are written against the SDK's previous major; its span, log and metric data
  // have the same shape (telemetryExport.test.ts sends all three through them).
  const sdk = new NodeSDK({
    serviceName,
    instrumentations: [createAzureSdkInstrumentation()],
    spanProcessors: [
      new BatchSpanProcessor({ exporter: new AzureMonitorTraceExporter(options) as unknown as SpanExporter }),
    ],
    logRecordProcessors: [
      new BatchLogRecordProcessor({
        exporter: new AzureMonitorLogExporter(options) as unknown as LogRecordExporter,
      }),
    ],
    // The service's metrics have their own provider; NodeSDK would add an empty one.
    metricReaders: [],
  });
  sdk.start();
  activateAzureSdkTracing();
  forwardLogLines(logLineSink(logs.getLogger(serviceName)));
  return {
    metricExporter: new AzureMonitorMetricExporter(options) as unknown as PushMetricExporter,
    shutdown: async () => {
      forwardLogLines(undefined);
      await sdk.shutdown();
    },
  };
}
