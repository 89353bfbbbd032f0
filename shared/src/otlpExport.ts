/**
 * Export through the OpenTelemetry SDK as the standard `OTEL_*` variables configure it (OTLP, or
 * console/zipkin for traces), loaded by `startTelemetry` only when they ask for it: the trace SDK,
 * its exporters and the Azure SDK instrumentation cost ~400 ms and ~40 MB at start-up, which a
 * replica that exports nothing should not pay.
 */
import { createAzureSdkInstrumentation } from "@azure/opentelemetry-instrumentation-azure-sdk";
import { logs } from "@opentelemetry/api";
import { OTLPMetricExporter as GrpcMetricExporter } from "@opentelemetry/exporter-metrics-otlp-grpc";
import { OTLPMetricExporter as JsonMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { OTLPMetricExporter as ProtobufMetricExporter } from "@opentelemetry/exporter-metrics-otlp-proto";
import type { PushMetricExporter } from "@opentelemetry/sdk-metrics";
import { NodeSDK } from "@opentelemetry/sdk-node";
import { activateAzureSdkTracing } from "./azureSdkTracing.ts";
import type { Env } from "./config/load.ts";
import { logLineSink } from "./logBridge.ts";
import { forwardLogLines } from "./logging.ts";
import type { ExportPlan } from "./telemetryPlan.ts";

export interface OtlpExport {
  /** The service's metrics (its own meter provider, beside Prometheus) go here when the plan says so. */
  metricExporter?: PushMetricExporter;
  shutdown(): Promise<void>;
}

/**
 * Starts the global tracer and logger providers (NodeSDK reads exporter, endpoint, protocol and
 * sampler from OTEL_* itself) for what the plan sends by OTLP, and builds the metric exporter.
 */
export function startOtlpExport(serviceName: string, plan: ExportPlan, env: Env): OtlpExport {
  const sdk =
    plan.traces === "otlp" || plan.logs === "otlp"
      ? new NodeSDK({
          serviceName,
          instrumentations: plan.traces === "otlp" ? [createAzureSdkInstrumentation()] : [],
          // The service's metrics have their own provider (below); NodeSDK would add an empty one.
          metricReaders: [],
          // Empty lists keep NodeSDK from starting its default OTLP exporter for a signal not asked for.
          ...(plan.traces === "otlp" ? {} : { spanProcessors: [] }),
          ...(plan.logs === "otlp" ? {} : { logRecordProcessors: [] }),
        })
      : undefined;
  sdk?.start();
  if (plan.traces === "otlp") activateAzureSdkTracing();
  if (plan.logs === "otlp") forwardLogLines(logLineSink(logs.getLogger(serviceName)));
  return {
    ...(plan.metrics === "otlp" ? { metricExporter: otlpMetricExporter(env) } : {}),
    shutdown: async () => {
      if (plan.logs === "otlp") forwardLogLines(undefined);
      await sdk?.shutdown();
    },
  };
}

/** The exporter for `OTEL_EXPORTER_OTLP_METRICS_PROTOCOL` (or `OTEL_EXPORTER_OTLP_PROTOCOL`), as NodeSDK chooses it. */
function otlpMetricExporter(env: Env): PushMetricExporter {
  const protocol = (env.OTEL_EXPORTER_OTLP_METRICS_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL)?.trim();
  switch (protocol) {
    case "grpc":
      return new GrpcMetricExporter();
    case "http/json":
      return new JsonMetricExporter();
    default:
      return new ProtobufMetricExporter();
  }
}
