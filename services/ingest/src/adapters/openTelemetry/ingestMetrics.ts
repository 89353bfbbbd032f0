/** The core's batch statistics as OpenTelemetry counters (served on /metrics by the shared telemetry). */
import type { Meter } from "@opentelemetry/api";
import type { BatchResult } from "../../core/batchProcessor.ts";
import type { GivenUpEvent } from "../../core/replay.ts";

export interface IngestMetrics {
  /** One attempt at a batch (a replay reports only what it adds). */
  batch(result: BatchResult): void;
  /** One attempt at a batch that threw. */
  batchFailed(): void;
  /** Events checkpointed past without their work done. */
  givenUp(events: GivenUpEvent[]): void;
}

export function createIngestMetrics(meter: Meter): IngestMetrics {
  const recordsRead = meter.createCounter("ingest_records_read", {
    description: "Activity Log records and Event Grid events read (a body that does not parse counts as one)",
  });
  const selected = meter.createCounter("ingest_records_selected", {
    description: "records that are successful writes of container groups, container apps or jobs",
  });
  const skipped = meter.createCounter("ingest_records_skipped", {
    description: "records skipped, by reason",
  });
  const lookups = meter.createCounter("ingest_arm_lookups", {
    description: "resources looked up, once per batch (warm-cache hits included, replays not)",
  });
  const lookupFailures = meter.createCounter("ingest_arm_lookup_failures", {
    description:
      "resource lookups that failed, by kind, every attempt (not-found: deleted since the event, skipped)",
  });
  const batchFailures = meter.createCounter("ingest_batch_failures", {
    description: "attempts at a batch that threw (a defect; its events are processed again, then given up)",
  });
  const givenUp = meter.createCounter("ingest_events_given_up", {
    description:
      "events checkpointed past after failing for longer than INGEST_RETRY_GIVE_UP_SECONDS, by the kind of their first failure",
  });
  const noContainers = meter.createCounter("ingest_resources_without_containers", {
    description: "resources found with no containers",
  });
  const imagesFound = meter.createCounter("ingest_images_found", {
    description: "container and init container images with a valid reference",
  });
  const imagesDropped = meter.createCounter("ingest_images_dropped", {
    description: "images not requested, by reason (invalid-reference, excluded-image, invalid-request)",
  });
  const duplicates = meter.createCounter("ingest_duplicates_collapsed", {
    description: "image requests collapsed in-process: repeats within a batch or the dedup window",
  });
  const sent = meter.createCounter("ingest_requests_sent", {
    description: "ScanRequested messages accepted by Service Bus",
  });
  const rejected = meter.createCounter("ingest_requests_rejected", {
    description: "ScanRequested messages larger than Service Bus allows (not sent)",
  });
  const deletes = meter.createCounter("ingest_deletes_selected", {
    description: "records that are successful deletes of container groups, container apps or jobs",
  });
  const workloads = meter.createCounter("ingest_workloads_written", {
    description: "Workloads rows upserted (op=upsert) or removed (op=delete) from events",
  });
  const workloadFailures = meter.createCounter("ingest_workload_write_failures", {
    description: "Workloads writes that failed, every attempt (their events are processed again)",
  });

  const batch = ({ stats }: BatchResult) => {
    recordsRead.add(stats.recordsRead);
    selected.add(stats.selected);
    for (const [reason, count] of Object.entries(stats.skipped)) skipped.add(count ?? 0, { reason });
    lookups.add(stats.lookups);
    for (const [kind, count] of Object.entries(stats.lookupFailures))
      lookupFailures.add(count ?? 0, { kind });
    noContainers.add(stats.resourcesWithoutContainers);
    imagesFound.add(stats.imagesFound);
    for (const [reason, count] of Object.entries(stats.imagesDropped)) imagesDropped.add(count, { reason });
    duplicates.add(stats.duplicatesCollapsed);
    sent.add(stats.requestsSent);
    rejected.add(stats.requestsRejected);
    deletes.add(stats.deletesSelected);
    workloads.add(stats.workloadsUpserted, { op: "upsert" });
    workloads.add(stats.workloadsDeleted, { op: "delete" });
    workloadFailures.add(stats.workloadWriteFailures);
  };
  return {
    batch,
    batchFailed: () => batchFailures.add(1),
    givenUp: (events) => {
      for (const event of events) givenUp.add(1, { reason: event.causes[0]?.kind ?? "unknown" });
    },
  };
}
