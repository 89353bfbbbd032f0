import { describe, expect, it } from "vitest";
import { byLabel, parsePrometheusText, sumOf } from "../../../src/dev/core/prometheus.ts";

const exposition = `# HELP ingest_records_read_total records read
# TYPE ingest_records_read_total counter
ingest_records_read_total 18
ingest_records_skipped_total{reason="start"} 5
ingest_records_skipped_total{reason="other-operation",extra="a \\"quoted\\" value"} 2
ingest_images_dropped_total{reason="invalid-reference"} 1 1700000000000
not a sample line
`;

describe("Prometheus text", () => {
  const samples = parsePrometheusText(exposition);

  it("reads counters with and without labels, escaped label values and timestamps", () => {
    expect(sumOf(samples, "ingest_records_read_total")).toBe(18);
    expect(sumOf(samples, "ingest_records_skipped_total")).toBe(7);
    expect(sumOf(samples, "ingest_images_dropped_total", { reason: "invalid-reference" })).toBe(1);
    expect(samples.find((sample) => sample.labels.extra)?.labels.extra).toBe('a "quoted" value');
  });

  it("groups a counter by one label, and reads an absent counter as 0", () => {
    expect(byLabel(samples, "ingest_records_skipped_total", "reason")).toEqual({
      start: 5,
      "other-operation": 2,
    });
    expect(sumOf(samples, "ingest_requests_sent_total")).toBe(0);
  });
});
