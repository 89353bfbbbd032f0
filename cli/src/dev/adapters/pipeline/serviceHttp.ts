/**
 * What the services report over HTTP: the results the recorder stored (its API, through scanctl's
 * recorder client) and ingest's counters (its /metrics).
 */
import type { RecorderApi } from "../../../core/ports.ts";
import { byLabel, parsePrometheusText, sumOf } from "../../core/prometheus.ts";
import type { IngestCounts, RecordedResult } from "../../core/summary.ts";

/** Every result recorded since `since`, newest first (`/api/history`, page by page). */
export async function resultsSince(recorder: RecorderApi, since: Date): Promise<RecordedResult[]> {
  const results: RecordedResult[] = [];
  let continuation: string | undefined;
  for (;;) {
    const page = await recorder.history({ limit: 500, continuation });
    for (const item of page.items) {
      if (new Date(item.finishedAt) < since) return results;
      results.push(item);
    }
    continuation = page.continuation;
    if (!continuation) return results;
  }
}

export async function ingestCounts(ingestUrl: string): Promise<IngestCounts> {
  const response = await fetch(`${ingestUrl}/metrics`, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`ingest /metrics answered ${response.status}`);
  const samples = parsePrometheusText(await response.text());
  return {
    recordsRead: sumOf(samples, "ingest_records_read_total"),
    recordsSelected: sumOf(samples, "ingest_records_selected_total"),
    recordsSkipped: byLabel(samples, "ingest_records_skipped_total", "reason"),
    imagesFound: sumOf(samples, "ingest_images_found_total"),
    imagesDropped: byLabel(samples, "ingest_images_dropped_total", "reason"),
    duplicatesCollapsed: sumOf(samples, "ingest_duplicates_collapsed_total"),
    requestsSent: sumOf(samples, "ingest_requests_sent_total"),
    eventsGivenUp: byLabel(samples, "ingest_events_given_up_total", "reason"),
  };
}
