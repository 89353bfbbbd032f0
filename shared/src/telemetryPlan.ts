/**
 * Where each signal goes beyond the Prometheus text at /metrics, from the standard variables alone
 * (so deciding loads nothing): Application Insights when `APPLICATIONINSIGHTS_CONNECTION_STRING` is
 * set, else OTLP per signal as `OTEL_{TRACES,METRICS,LOGS}_EXPORTER` and the `OTEL_EXPORTER_OTLP_*`
 * endpoints ask, else nowhere.
 */
import type { Env } from "./config/load.ts";

export type ExportTarget = "azure-monitor" | "otlp";

export interface ExportPlan {
  traces?: ExportTarget;
  metrics?: ExportTarget;
  logs?: ExportTarget;
}

type Signal = keyof ExportPlan;

const EXPORTER_VARIABLE: Record<Signal, string> = {
  traces: "OTEL_TRACES_EXPORTER",
  metrics: "OTEL_METRICS_EXPORTER",
  logs: "OTEL_LOGS_EXPORTER",
};

export function exportPlan(env: Env): ExportPlan {
  if (env.OTEL_SDK_DISABLED === "true") return {};
  if (env.APPLICATIONINSIGHTS_CONNECTION_STRING) {
    return { traces: "azure-monitor", metrics: "azure-monitor", logs: "azure-monitor" };
  }
  const plan: ExportPlan = {};
  for (const signal of ["traces", "metrics", "logs"] as const) {
    if (otlpRequested(env, signal)) plan[signal] = "otlp";
  }
  return plan;
}

/**
 * `OTEL_<SIGNAL>_EXPORTER` decides when set (`otlp` among its values; for traces, any exporter but
 * `none`, as NodeSDK also offers console and zipkin); unset, an OTLP endpoint for the signal does.
 */
function otlpRequested(env: Env, signal: Signal): boolean {
  const exporters = (env[EXPORTER_VARIABLE[signal]] ?? "")
    .split(",")
    .map((value) => value.trim())
    .filter(Boolean);
  if (exporters.length > 0) {
    if (exporters.includes("none")) return false;
    return signal === "traces" || exporters.includes("otlp");
  }
  return Boolean(
    env.OTEL_EXPORTER_OTLP_ENDPOINT || env[`OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_ENDPOINT`],
  );
}
