import { startTelemetry } from "@qcs/shared/runtime";
import { describe, expect, it } from "vitest";
import { createIngestMetrics } from "../../src/adapters/openTelemetry/ingestMetrics.ts";

describe("ingest metrics", () => {
  it("exposes each batch's counts and the events given up on /metrics, with reasons and kinds as labels", async () => {
    const telemetry = startTelemetry({ serviceName: "ingest-metrics-test", env: {} });
    try {
      const record = createIngestMetrics(telemetry.meter);
      record.batch({
        checkpointIndex: 3,
        retryFrom: undefined,
        unsettled: [],
        stats: {
          recordsRead: 10,
          selected: 6,
          deletesSelected: 2,
          skipped: { start: 2, "other-operation": 2 },
          lookups: 3,
          lookupFailures: { "not-found": 1, throttled: 1 },
          resourcesWithoutContainers: 1,
          imagesFound: 9,
          imagesDropped: { "invalid-reference": 1, "excluded-image": 0, "invalid-request": 0 },
          duplicatesCollapsed: 1,
          requestsSent: 8,
          requestsRejected: 0,
          workloadsUpserted: 3,
          workloadsDeleted: 2,
          workloadWriteFailures: 1,
        },
      });
      record.batchFailed();
      record.batchFailed();
      record.givenUp([
        { index: 0, failingForMs: 2000, causes: [{ kind: "unauthorized", resourceId: "/subscriptions/a" }] },
        { index: 1, failingForMs: 2000, causes: [{ kind: "processing-error" }] },
      ]);
      const text = await telemetry.renderMetrics();
      const value = (series: string) =>
        Number(
          text
            .split("\n")
            .find((line) => line.startsWith(series))
            ?.split(" ")
            .at(-1),
        );
      expect(value("ingest_records_read_total")).toBe(10);
      expect(value("ingest_records_selected_total")).toBe(6);
      expect(value('ingest_records_skipped_total{reason="start"')).toBe(2);
      expect(value('ingest_records_skipped_total{reason="other-operation"')).toBe(2);
      expect(value('ingest_arm_lookup_failures_total{kind="not-found"')).toBe(1);
      expect(value('ingest_arm_lookup_failures_total{kind="throttled"')).toBe(1);
      expect(value("ingest_images_found_total")).toBe(9);
      expect(value('ingest_images_dropped_total{reason="invalid-reference"')).toBe(1);
      expect(value("ingest_duplicates_collapsed_total")).toBe(1);
      expect(value("ingest_requests_sent_total")).toBe(8);
      expect(value("ingest_resources_without_containers_total")).toBe(1);
      expect(value("ingest_batch_failures_total")).toBe(2);
      expect(value("ingest_deletes_selected_total")).toBe(2);
      expect(value('ingest_workloads_written_total{op="upsert"')).toBe(3);
      expect(value('ingest_workloads_written_total{op="delete"')).toBe(2);
      expect(value("ingest_workload_write_failures_total")).toBe(1);
      expect(value('ingest_events_given_up_total{reason="unauthorized"')).toBe(1);
      expect(value('ingest_events_given_up_total{reason="processing-error"')).toBe(1);
    } finally {
      await telemetry.shutdown();
    }
  });
});
