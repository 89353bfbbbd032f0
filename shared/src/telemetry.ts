/**
 * OpenTelemetry for every service. Metrics always go to a Prometheus registry served at /metrics
 * (only the metrics SDK and the Prometheus exporter are loaded for that). Traces are exported only
 * when the standard `OTEL_*` variables ask for it, and only then is the trace SDK loaded
 * (`tracing.ts`); otherwise tracing is a no-op. With tracing on, `@azure/service-bus` stamps each
 * sent message with a `Diagnostic-Id` (W3C traceparent), and {@link startMessageSpan} continues
 * that trace on the receiving side.
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
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import type { Env } from "./config/load.ts";

export interface Telemetry {
  meter: Meter;
  tracer: Tracer;
  /** Prometheus text exposition of every metric of this process. */
  renderMetrics(): Promise<string>;
  /** Settles once requested trace export runs (at once when none is); start work after it. */
  ready: Promise<void>;
  shutdown(): Promise<void>;
}

export interface StartTelemetryOptions {
  serviceName: string;
  serviceVersion?: string;
  /** Default: `process.env`. */
  env?: Env;
}

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** True when the standard variables ask for trace export. */
export function tracingRequested(env: Env): boolean {
  if (env.OTEL_SDK_DISABLED === "true") return false;
  const exporter = env.OTEL_TRACES_EXPORTER;
  if (exporter !== undefined && exporter !== "") return exporter !== "none";
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
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

  // Not registered globally, so several services can run in one process (tests, `npm start`).
  const meterProvider = new MeterProvider({
    resource: resourceFromAttributes({ "service.name": options.serviceName, "service.version": version }),
    readers: [prometheus],
  });
  const tracing = tracingRequested(env)
    ? import("./tracing.ts").then(({ startTracing }) => startTracing(options.serviceName))
    : undefined;
  return {
    meter: meterProvider.getMeter(options.serviceName, version),
    // A proxy: it starts real spans once the tracer provider is registered.
    tracer: trace.getTracer(options.serviceName, version),
    renderMetrics,
    ready: tracing ? tracing.then(() => undefined) : Promise.resolve(),
    shutdown: async () => {
      await Promise.all([(await tracing)?.shutdown(), meterProvider.shutdown()]);
    },
  };
}

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
  const span = tracer.startSpan(name, { kind: SpanKind.CONSUMER }, parent);
  return { span, context: trace.setSpan(parent, span) };
}
