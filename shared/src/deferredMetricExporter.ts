/**
 * A metric exporter that stands in for one still loading. The meter provider takes its readers
 * when it is built, synchronously, but the OTLP and Azure Monitor exporters are imported only when
 * asked for (their SDKs cost start-up time): this one is built at once and hands each export to
 * the real exporter once it is there. The aggregation temporality is chosen up front, as the
 * reader asks for it when it is built.
 */
import {
  AggregationTemporality,
  InstrumentType,
  type PushMetricExporter,
  type ResourceMetrics,
} from "@opentelemetry/sdk-metrics";
import type { ExportTarget } from "./telemetryPlan.ts";

type ExportResult = Parameters<Parameters<PushMetricExporter["export"]>[1]>[0];
/** `ExportResultCode.FAILED` of `@opentelemetry/core`, which the service does not otherwise import. */
const EXPORT_FAILED = 1;

export class DeferredMetricExporter implements PushMetricExporter {
  readonly #exporter: Promise<PushMetricExporter>;
  readonly #target: ExportTarget;

  constructor(target: ExportTarget, exporter: Promise<PushMetricExporter>) {
    this.#target = target;
    this.#exporter = exporter;
    // A failed load is reported by whoever awaits the telemetry's `ready`; exports then fail quietly.
    exporter.catch(() => {});
  }

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    this.#exporter.then(
      (exporter) => exporter.export(metrics, resultCallback),
      (error: unknown) => resultCallback({ code: EXPORT_FAILED, error: error as Error }),
    );
  }

  /**
   * Application Insights wants deltas, except for up-down counters (as its own exporter selects);
   * OTLP gets cumulative sums, the OTLP default.
   */
  selectAggregationTemporality(instrumentType: InstrumentType): AggregationTemporality {
    if (this.#target === "otlp") return AggregationTemporality.CUMULATIVE;
    return instrumentType === InstrumentType.UP_DOWN_COUNTER ||
      instrumentType === InstrumentType.OBSERVABLE_UP_DOWN_COUNTER
      ? AggregationTemporality.CUMULATIVE
      : AggregationTemporality.DELTA;
  }

  async forceFlush(): Promise<void> {
    await (await this.#loaded())?.forceFlush();
  }

  async shutdown(): Promise<void> {
    await (await this.#loaded())?.shutdown();
  }

  async #loaded(): Promise<PushMetricExporter | undefined> {
    return this.#exporter.catch(() => undefined);
  }
}
