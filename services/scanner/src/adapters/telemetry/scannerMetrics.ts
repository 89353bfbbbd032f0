/**
 * The scanner's metrics on the OpenTelemetry meter (served as Prometheus at /metrics): scans by
 * outcome and failure class, scan duration, cache hits, lock renewals, scans in flight and the
 * vulnerabilities found per severity.
 */
import type { Meter } from "@opentelemetry/api";
import type { FailureClass, VulnerabilityCounts } from "@qcs/shared";
import type { ScanMetrics, ScanOutcome } from "../../core/ports.ts";
import type { ReceiverMetrics } from "../serviceBus/scanRequestReceiver.ts";

const SEVERITIES = ["critical", "high", "medium", "low", "informational"] as const;

export function createScannerMetrics(meter: Meter): ScanMetrics & ReceiverMetrics {
  const scans = meter.createCounter("scanner_scans", {
    description: "Scan requests handled, by outcome and failure class",
  });
  const duration = meter.createHistogram("scanner_scan_duration", {
    description: "Time from receiving a scan request to its outcome",
    unit: "s",
    advice: { explicitBucketBoundaries: [0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600] },
  });
  const cacheHits = meter.createCounter("scanner_cache_hits", {
    description: "Requests skipped because the image was scanned recently",
  });
  const lockRenewals = meter.createCounter("scanner_lock_renewals", {
    description: "Message lock renewals, by result",
  });
  const inFlight = meter.createUpDownCounter("scanner_scans_in_flight", {
    description: "Scan requests being handled now",
  });
  const vulnerabilities = meter.createCounter("scanner_vulnerabilities_found", {
    description: "Vulnerabilities reported by successful scans, by severity",
  });
  return {
    scanFinished(outcome: ScanOutcome, failureClass: FailureClass | undefined, durationMs: number) {
      scans.add(1, { outcome, failure_class: failureClass ?? "none" });
      duration.record(durationMs / 1000, { outcome });
    },
    cacheHit: () => cacheHits.add(1),
    vulnerabilitiesFound(counts: VulnerabilityCounts) {
      for (const severity of SEVERITIES) vulnerabilities.add(counts[severity], { severity });
    },
    lockRenewed: () => lockRenewals.add(1, { result: "renewed" }),
    lockRenewalFailed: () => lockRenewals.add(1, { result: "failed" }),
    inFlightChanged: (delta: number) => inFlight.add(delta),
  };
}
