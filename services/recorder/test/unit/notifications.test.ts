import {
  FINDINGS_NEW,
  type Notification,
  notificationId,
  parseImageRef,
  SCAN_FAILED,
  type Severity,
} from "@qcs/shared";
import { describe, expect, it } from "vitest";
import { countAtOrAbove } from "../../src/core/notifications.ts";
import { recordScan } from "../../src/core/recordScan.ts";
import { InMemoryScanRecords } from "../support/inMemoryScanRecords.ts";
import { completedScan, DIGEST, failedScan } from "../support/scans.ts";

const OTHER_DIGEST = `sha256:${"cd".repeat(32)}`;
const counts = (critical: number, high: number, medium = 0, low = 0) => ({
  critical,
  high,
  medium,
  low,
  informational: 0,
  total: critical + high + medium + low,
});
const at = (minute: number) => `2025-03-14T09:${String(minute).padStart(2, "0")}:00.000Z`;

/** The recorder's real core over the in-memory store; the outbox keeps what it was given. */
function recorder(minSeverity: Severity = "high") {
  const store = new InMemoryScanRecords();
  const sent: Notification[] = [];
  const outbox = { send: async (notification: Notification) => void sent.push(notification) };
  return {
    store,
    sent,
    record: (scan: ReturnType<typeof completedScan>) =>
      recordScan(store, scan, { notify: { outbox, minSeverity } }),
  };
}

describe("what the recorder notifies as it records", () => {
  it("notifies the first success with findings at or above the threshold, with the request's resources", async () => {
    const { sent, record } = recorder();
    const scan = completedScan({ finishedAt: at(10), vulnerabilities: counts(1, 2, 3, 4) });
    await record(scan);
    expect(sent).toEqual([
      {
        schemaVersion: 1,
        type: FINDINGS_NEW,
        data: {
          ref: scan.image.ref,
          digest: DIGEST,
          registry: "myreg.azurecr.io",
          repository: "payments/invoice-worker",
          tag: "2.4.1",
          minSeverity: "high",
          vulnerabilities: { critical: 1, high: 2, medium: 3, low: 4 },
          resources: [
            { resourceId: scan.sources[0]?.kind === "aci" ? scan.sources[0].resourceId : "", kind: "aci" },
          ],
          scanId: scan.scanId,
          scannedAt: at(10),
        },
      },
    ]);
  });

  it("says nothing for a later scan with as many serious findings, or fewer", async () => {
    const { sent, record } = recorder();
    await record(completedScan({ finishedAt: at(10), vulnerabilities: counts(1, 2) }));
    await record(completedScan({ finishedAt: at(20), vulnerabilities: counts(0, 3, 9, 9) }));
    await record(completedScan({ finishedAt: at(30), vulnerabilities: counts(0, 1) }));
    expect(sent.map((n) => n.type)).toEqual([FINDINGS_NEW]);
  });

  it("notifies a moved tag whose serious findings rose, naming the previous digest and counts", async () => {
    const { sent, record } = recorder();
    await record(completedScan({ finishedAt: at(10), vulnerabilities: counts(0, 1) }));
    const moved = completedScan({
      finishedAt: at(20),
      image: { ...parseImageRef(`myreg.azurecr.io/payments/invoice-worker@${OTHER_DIGEST}`), tag: "2.4.1" },
      vulnerabilities: counts(1, 1),
    });
    await record(moved);
    expect(sent).toHaveLength(2);
    expect(sent[1]).toMatchObject({
      type: FINDINGS_NEW,
      data: {
        digest: OTHER_DIGEST,
        vulnerabilities: { critical: 1, high: 1 },
        previous: { digest: DIGEST, vulnerabilities: { critical: 0, high: 1, medium: 0, low: 0 } },
      },
    });
  });

  it("counts from the threshold up: medium findings are news only with NOTIFY_MIN_SEVERITY=medium", async () => {
    const high = recorder("high");
    const medium = recorder("medium");
    const scan = completedScan({ vulnerabilities: counts(0, 0, 5, 1) });
    await high.record(scan);
    await medium.record(scan);
    expect(high.sent).toEqual([]);
    expect(medium.sent.map((n) => n.type)).toEqual([FINDINGS_NEW]);
    expect(countAtOrAbove({ critical: 1, high: 2, medium: 3, low: 4 }, "critical")).toBe(1);
    expect(countAtOrAbove({ critical: 1, high: 2, medium: 3, low: 4 }, "low")).toBe(10);
  });

  it("decides nothing again for a redelivered result", async () => {
    const { sent, record } = recorder();
    const scan = completedScan({ vulnerabilities: counts(2, 0) });
    await record(scan);
    await record(scan);
    expect(sent).toHaveLength(1);
  });

  it("decides the same notification again when the write after queueing failed (the queue drops the repeat)", async () => {
    const { store, sent, record } = recorder();
    const scan = completedScan({ vulnerabilities: counts(2, 0) });
    await recordScan(store, scan).catch(() => undefined); // nothing notified without an outbox
    // The history rows exist, the rows do not: as if the first delivery died after queueing.
    store.metadata.clear();
    await record(scan);
    store.metadata.clear();
    await record(scan);
    expect(sent).toHaveLength(2);
    expect(new Set(sent.map(notificationId))).toEqual(new Set([`${scan.scanId}:${FINDINGS_NEW}`]));
  });

  it("ignores an older success that arrives after a newer one", async () => {
    const { sent, record } = recorder();
    await record(completedScan({ finishedAt: at(30), vulnerabilities: counts(0, 1) }));
    await record(completedScan({ finishedAt: at(10), vulnerabilities: counts(5, 5) }));
    expect(sent).toHaveLength(1);
  });

  it("notifies every failed result (the scanner publishes one only when it dead-letters the request)", async () => {
    const { sent, record } = recorder();
    const scan = failedScan({
      attempt: 3,
      error: { class: "ImageNotFound", message: "manifest unknown. Check the tag, then resubmit" },
    });
    await record(scan);
    await record(scan);
    expect(sent).toEqual([
      {
        schemaVersion: 1,
        type: SCAN_FAILED,
        data: {
          ref: scan.image.ref,
          reason: "ImageNotFound",
          description: "manifest unknown. Check the tag, then resubmit",
          attempts: 3,
          resources: [expect.objectContaining({ kind: "aci" })],
          scanId: scan.scanId,
          failedAt: scan.finishedAt,
        },
      },
    ]);
  });

  it("notifies nothing for a cached skip or a clean image", async () => {
    const { sent, record } = recorder();
    await record(completedScan({ vulnerabilities: counts(0, 0, 3, 3) }));
    await record(
      completedScan({
        status: "skipped",
        skipReason: "cached",
        finishedAt: at(40),
        vulnerabilities: counts(9, 9),
      }),
    );
    expect(sent).toEqual([]);
  });
});
