/**
 * OpenTelemetry for every service. Metrics always go to a Prometheus registry served at /metrics
 * (only the metrics SDK and the Prometheus exporter are loaded for that). Export beyond it is
 * planned from the standard variables (`telemetryPlan.ts`) and its SDK is imported only then:
 * Application Insights through the Azure Monitor exporters (`azureMonitorExport.ts`) when
 * `APPLICATIONINSIGHTS_CONNECTION_STRING` is set, else OTLP as `OTEL_*` asks (`otlpExport.ts`);
 * otherwise tracing is a no-op. With tracing on, `@azure/service-bus` stamps each sent message with
 * a `Diagnostic-Id` (W3C traceparent), and {@link startMessageSpan} continues that trace on the
 * receiving side.
 */
import {
  type Context,
  context,
  type Meter,
  propagation,
  type Span,
  SpanKind,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { PrometheusExporter, PrometheusSerializer } from "@opentelemetry/exporter-prometheus";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  type IMetricReader,
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from "@opentelemetry/sdk-metrics";
import type { Env } from "./config/load.ts";
import { APP_PROPERTY } from "./contracts/messages.ts";
import { DeferredMetricExporter } from "./deferredMetricExporter.ts";
import { type ExportPlan, exportPlan } from "./telemetryPlan.ts";

export interface Telemetry {
  meter: Meter;
  tracer: Tracer;
  /** Prometheus text exposition of every metric of this process. */
  renderMetrics(): Promise<string>;
  /** Settles once requested export runs (at once when none is); start work after it. */
  ready: Promise<void>;
  shutdown(): Promise<void>;
}

export interface StartTelemetryOptions {
  serviceName: string;
  serviceVersion?: string;
  /** Default: `process.env`. The OpenTelemetry SDKs themselves read `process.env`. */
  env?: Env;
}

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

interface StartedExport {
  metricExporter?: PushMetricExporter;
  shutdown(): Promise<void>;
}

export function startTelemetry(options: StartTelemetryOptions): Telemetry {
  const env = options.env ?? process.env;
  const prometheus = new PrometheusExporter({ preventServerStart: true });
  const serializer = new PrometheusSerializer();
  const renderMetrics = async () => {
    const { resourceMetrics } = await prometheus.collect();
    return serializer.serialize(resourceMetrics);
  };
  const version = options.serviceVersion ?? "0.0.0";
  const plan = exportPlan(env);
  const exporting = startExport(options.serviceName, plan, env);
  const readers: IMetricReader[] = [prometheus];
  if (plan.metrics && exporting) {
    const exporter = exporting.then(({ metricExporter }) => {
      if (!metricExporter) throw new Error("no metric exporter was started");
      return metricExporter;
    });
    readers.push(periodicReader(new DeferredMetricExporter(plan.metrics, exporter), env));
  }

  // Not registered globally, so several services can run in one process (tests, `npm start`).
  const meterProvider = new MeterProvider({
    resource: resourceFromAttributes({ "service.name": options.serviceName, "service.version": version }),
    readers,
  });
  return {
    meter: meterProvider.getMeter(options.serviceName, version),
    // A proxy: it starts real spans once the tracer provider is registered.
    tracer: trace.getTracer(options.serviceName, version),
    renderMetrics,
    ready: exporting ? exporting.then(() => undefined) : Promise.resolve(),
    shutdown: async () => {
      // The meter provider first: its last export goes out before the exporters close.
      await meterProvider.shutdown();
      await (await exporting?.catch(() => undefined))?.shutdown();
    },
  };
}

/** Imports and starts the SDK the plan needs, if any. */
function startExport(serviceName: string, plan: ExportPlan, env: Env): Promise<StartedExport> | undefined {
  if (!plan.traces && !plan.metrics && !plan.logs) return undefined;
  const connectionString = env.APPLICATIONINSIGHTS_CONNECTION_STRING;
  if (connectionString) {
    return import("./azureMonitorExport.ts").then(({ startAzureMonitorExport }) =>
      startAzureMonitorExport(serviceName, connectionString),
    );
  }
  return import("./otlpExport.ts").then(({ startOtlpExport }) => startOtlpExport(serviceName, plan, env));
}

/** Exports every `OTEL_METRIC_EXPORT_INTERVAL` ms (default 60 s), each within `OTEL_METRIC_EXPORT_TIMEOUT` (30 s). */
function periodicReader(exporter: PushMetricExporter, env: Env): PeriodicExportingMetricReader {
  const interval = positive(env.OTEL_METRIC_EXPORT_INTERVAL) ?? 60_000;
  const timeout = Math.min(positive(env.OTEL_METRIC_EXPORT_TIMEOUT) ?? 30_000, interval);
  return new PeriodicExportingMetricReader({
    exporter,
    exportIntervalMillis: interval,
    exportTimeoutMillis: timeout,
  });
}

function positive(value: string | undefined): number | undefined {
  const number = Number(value);
  return value && Number.isFinite(number) && number > 0 ? number : undefined;
}

/** Span attribute holding the image reference a message is about (searchable in Application Insights). */
export const IMAGE_ATTRIBUTE = "qcs.image";

/** Application property in which `@azure/service-bus` carries the W3C traceparent of a message. */
export const TRACEPARENT_PROPERTY = "Diagnostic-Id";

/**
 * Starts a consumer span for handling one message, as a child of the producer's trace when the
 * message carries one. Returns the span and the context to run the handler in.
 */
export function startMessageSpan(
  tracer: Tracer,
  name: string,
  applicationProperties: Record<string, unknown> | undefined,
): { span: Span; context: Context } {
  const traceparent = applicationProperties?.[TRACEPARENT_PROPERTY];
  const parent =
    typeof traceparent === "string"
      ? propagation.extract(context.active(), { traceparent })
      : context.active();
  const image = applicationProperties?.[APP_PROPERTY.imageRef];
  const span = tracer.startSpan(
    name,
    {
      kind: SpanKind.CONSUMER,
      ...(typeof image === "string" ? { attributes: { [IMAGE_ATTRIBUTE]: image } } : {}),
    },
    parent,
  );
  return { span, context: trace.setSpan(parent, span) };
}
