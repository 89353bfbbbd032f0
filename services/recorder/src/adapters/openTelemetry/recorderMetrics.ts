/** The core's counters as OpenTelemetry instruments (served on /metrics by the shared telemetry). */
import type { Meter } from "@opentelemetry/api";
import type { RecorderMetrics, RecordOutcome } from "../../core/ports.ts";

export function createRecorderMetrics(meter: Meter): RecorderMetrics {
  const recorded = meter.createCounter("recorder_results_recorded", {
    description: "ScanCompleted results that became an image's latest state, by scan status",
  });
  const duplicates = meter.createCounter("recorder_results_duplicate", {
    description: "ScanCompleted results ignored because they were recorded before",
  });
  const outOfOrder = meter.createCounter("recorder_results_out_of_order", {
    description:
      "ScanCompleted results older than the stored latest state: kept in history, latest state unchanged",
  });
  const retries = meter.createCounter("recorder_storage_retries", {
    description: "Table Storage operations retried after a failure",
  });
  const deadLettered = meter.createCounter("recorder_messages_dead_lettered", {
    description: "messages dead-lettered, by reason",
  });
  return {
    resultHandled(status: string, outcome: RecordOutcome) {
      if (outcome === "recorded") recorded.add(1, { status });
      else if (outcome === "duplicate") duplicates.add(1, { status });
      else outOfOrder.add(1, { status });
    },
    storageRetried() {
      retries.add(1);
    },
    deadLettered(reason: string) {
      deadLettered.add(1, { reason });
    },
  };
}
