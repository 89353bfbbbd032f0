/** Valid ScanCompleted results for tests: each call gets a fresh scanId unless one is given. */
import { randomUUID } from "node:crypto";
import { parseImageRef, type ScanCompleted, ScanCompletedV1 } from "@qcs/shared";

export const DIGEST = `sha256:${"ab".repeat(32)}`;
export const SUBSCRIPTION = "ed6a948b-ba01-4eea-9471-c147cad379eb";
export const resourceId = (name: string) =>
  `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-apps/providers/Microsoft.ContainerInstance/containerGroups/${name}`;

export function completedScan(overrides: Partial<ScanCompleted> = {}): ScanCompleted {
  const finishedAt = overrides.finishedAt ?? "2025-03-14T09:10:00.000Z";
  return ScanCompletedV1.parse({
    schemaVersion: 1,
    scanId: randomUUID(),
    requestId: randomUUID(),
    image: { ...parseImageRef(`myreg.azurecr.io/payments/invoice-worker@${DIGEST}`), tag: "2.4.1" },
    sources: [
      {
        kind: "aci",
        resourceId: resourceId("ci-invoice-worker"),
        subscriptionId: SUBSCRIPTION,
        resourceGroup: "rg-apps",
        resourceName: "ci-invoice-worker",
      },
    ],
    status: "succeeded",
    attempt: 1,
    startedAt: new Date(Date.parse(finishedAt) - 60_000).toISOString(),
    finishedAt,
    durationMs: 60_000,
    scanner: { name: "qscanner", version: "4.8.0-2", mode: "get-report" },
    vulnerabilities: { critical: 1, high: 2, medium: 3, low: 4, informational: 5, total: 15 },
    qualys: { pod: "US2", imageId: "4406e1e53abc" },
    ...overrides,
  });
}

export function failedScan(overrides: Partial<ScanCompleted> = {}): ScanCompleted {
  return completedScan({
    status: "failed",
    vulnerabilities: undefined,
    error: { class: "ScanTimeout", message: "qscanner ran longer than 1800 s" },
    ...overrides,
  });
}

/** The message the scanner would publish, as the SDK hands it to a receiver. */
export function messageOf(scan: ScanCompleted) {
  return { body: scan, subject: "ScanCompleted", contentType: "application/json" };
}
