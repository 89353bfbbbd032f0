/** What each template shows, built from the answers the API serves too; the templates only lay it out. */
import {
  COVERAGE_STATES,
  type CoverageState,
  type ImageRef,
  remedyOf,
  type ScanMetadataEntity,
  SEVERITIES,
  vulnerabilityCountsOf,
} from "@qcs/shared";
import type { ImageCoverage } from "../core/coverage.ts";
import type { CoverageAnswer } from "../core/coverageReport.ts";
import type { RecentFailures } from "../core/recentFailures.ts";
import type { ImageDetailAnswer } from "../core/recorderQueries.ts";
import type { ScanHistoryEntity } from "../core/scanHistory.ts";
import { age, clock, imagePath, rescanCommand, resubmitCommand, STATE_LABELS, withQuery } from "./format.ts";

type Counts = ReturnType<typeof vulnerabilityCountsOf>;

function countsModel(counts: Counts) {
  return counts === undefined ? { known: false as const } : { known: true as const, ...counts };
}

export function overviewModel(input: {
  coverage: CoverageAnswer;
  sloHours: number;
  vulnerable: { items: ImageCoverage[]; matched: number };
  failures: RecentFailures;
  lastScanAt: Date | undefined;
  now: number;
  windowHours: number;
}) {
  const { totals } = input.coverage.coverage;
  return {
    title: "Overview",
    nav: "overview",
    signedIn: true,
    sloHours: input.sloHours,
    totals,
    states: COVERAGE_STATES.map((state) => ({
      state,
      label: STATE_LABELS[state],
      count: totals[state],
      href: withQuery("/images", { state }),
      percent: totals.images === 0 ? 0 : Math.round((totals[state] / totals.images) * 100),
    })),
    computedAt: clock(input.coverage.computedAt),
    lastSweep: { text: age(input.coverage.lastSweepAt, input.now), at: clock(input.coverage.lastSweepAt) },
    lastScan: { text: age(input.lastScanAt, input.now), at: clock(input.lastScanAt) },
    vulnerable: {
      matched: input.vulnerable.matched,
      href: withQuery("/images", { minSeverity: "high" }),
      items: input.vulnerable.items.map((image) => imageRow(image, input.now)),
    },
    windowHours: input.windowHours,
    failures: {
      total: input.failures.failures.length,
      truncated: input.failures.truncated,
      reasons: input.failures.reasons.map((reason) => ({
        ...reason,
        href: withQuery("/failures", { reason: reason.reason }),
        last: age(reason.lastAt, input.now),
      })),
    },
  };
}

function imageRow(image: ImageCoverage, now: number) {
  const latest = image.latest;
  return {
    ref: image.ref,
    href: imagePath(image.ref),
    state: image.state,
    stateLabel: STATE_LABELS[image.state],
    lastScanAge: age(latest?.LastScanAt, now),
    lastScanAt: latest?.LastScanAt.toISOString() ?? "",
    digest: latest?.Digest ?? "",
    counts: countsModel(latest && vulnerabilityCountsOf(latest)),
    workloads: image.workloads,
  };
}

export function imagesModel(input: {
  coverage: CoverageAnswer;
  query: {
    state?: CoverageState | undefined;
    registry?: string | undefined;
    minSeverity?: string | undefined;
    after?: string | undefined;
  };
  page: { items: ImageCoverage[]; matched: number; after?: string };
  now: number;
}) {
  const { query, page } = input;
  const filters = { state: query.state, registry: query.registry, minSeverity: query.minSeverity };
  return {
    title: "Images",
    nav: "images",
    signedIn: true,
    filters: {
      state: query.state ?? "",
      registry: query.registry ?? "",
      minSeverity: query.minSeverity ?? "",
    },
    stateOptions: COVERAGE_STATES.map((state) => ({ value: state, label: STATE_LABELS[state] })),
    severityOptions: SEVERITIES.map((severity) => ({ value: severity, label: `${severity} or worse` })),
    matched: page.matched,
    total: input.coverage.coverage.totals.images,
    computedAt: clock(input.coverage.computedAt),
    rows: page.items.map((image) => imageRow(image, input.now)),
    first: query.after === undefined ? undefined : withQuery("/images", filters),
    next: page.after === undefined ? undefined : withQuery("/images", { ...filters, after: page.after }),
  };
}

function historyRow(row: ScanHistoryEntity, now: number) {
  return {
    scanId: row.ScanId,
    finished: age(row.FinishedAt, now),
    finishedAt: clock(row.FinishedAt),
    status: row.Status,
    skipReason: row.SkipReason ?? "",
    digest: row.Digest ?? "",
    attempt: row.Attempt,
    scanner: `${row.ScannerName} ${row.ScannerVersion}`,
    counts: countsModel(vulnerabilityCountsOf(row)),
    error:
      row.ErrorClass === undefined ? undefined : { class: row.ErrorClass, message: row.ErrorMessage ?? "" },
  };
}

function lastFailure(latest: ScanMetadataEntity | undefined, history: ScanHistoryEntity[]) {
  if (latest?.ErrorClass !== undefined && latest.Status === "failed") {
    return { class: latest.ErrorClass, message: latest.ErrorMessage ?? "", at: latest.LastScanAt };
  }
  const row = history.find((item) => item.Status === "failed");
  return row?.ErrorClass === undefined
    ? undefined
    : { class: row.ErrorClass, message: row.ErrorMessage ?? "", at: row.FinishedAt };
}

export function imageModel(input: {
  image: ImageRef;
  detail: ImageDetailAnswer;
  state: CoverageState | undefined;
  now: number;
}) {
  const { image, detail, now } = input;
  const latest = detail.latest;
  const failure = lastFailure(latest, detail.history.items);
  const digests = [...new Set(detail.history.items.map((row) => row.Digest).filter((d) => d !== undefined))];
  return {
    title: image.ref,
    nav: "images",
    signedIn: true,
    ref: image.ref,
    state: input.state,
    stateLabel: input.state === undefined ? "not running" : STATE_LABELS[input.state],
    latest:
      latest === undefined
        ? undefined
        : {
            status: latest.Status,
            lastScan: age(latest.LastScanAt, now),
            lastScanAt: clock(latest.LastScanAt),
            lastSuccess: age(latest.LastSuccessAt, now),
            digest: latest.Digest ?? "",
            scanCount: latest.ScanCount,
            scannerVersion: latest.ScannerVersion ?? "",
            counts: countsModel(vulnerabilityCountsOf(latest)),
          },
    digests,
    history: detail.history.items.map((row) => historyRow(row, now)),
    historyMore: detail.history.after !== undefined,
    runs: detail.runs.map((run) => ({
      subscriptionId: run.workload.subscriptionId,
      resourceGroup: run.workload.resourceGroup,
      name: run.workload.name,
      kind: run.workload.kind,
      containers: run.containers.join(", "),
      resourceId: run.workload.resourceId,
    })),
    failure:
      failure === undefined
        ? undefined
        : {
            ...failure,
            when: age(failure.at, now),
            remedy: remedyText(failure.class),
            resubmit: resubmitCommand(failure.class, image.registry),
          },
    rescan: rescanCommand(image.ref),
  };
}

export function failuresModel(input: {
  failures: RecentFailures;
  query: { reason?: string | undefined; after?: string | undefined };
  page: { items: ScanHistoryEntity[]; after?: string };
  now: number;
  windowHours: number;
}) {
  const { failures, query, page, now } = input;
  return {
    title: "Failures",
    nav: "failures",
    signedIn: true,
    windowHours: input.windowHours,
    total: failures.failures.length,
    truncated: failures.truncated,
    reason: query.reason ?? "",
    reasons: failures.reasons.map((reason) => ({
      ...reason,
      href: withQuery("/failures", { reason: reason.reason }),
      last: age(reason.lastAt, now),
      remedy: reason.remedy ?? NO_REMEDY,
      resubmit: resubmitCommand(reason.reason),
    })),
    rows: page.items.map((row) => ({
      ...historyRow(row, now),
      ref: row.Ref,
      href: imagePath(row.Ref),
      rescan: rescanCommand(row.Ref),
    })),
    first: query.after === undefined ? undefined : withQuery("/failures", { reason: query.reason }),
    next:
      page.after === undefined
        ? undefined
        : withQuery("/failures", { reason: query.reason, after: page.after }),
  };
}

const NO_REMEDY = "No remedy is known for this reason; read the failure's message.";

function remedyText(errorClass: string): string {
  return remedyOf(errorClass) ?? NO_REMEDY;
}
