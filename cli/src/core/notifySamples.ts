/**
 * The samples `scanctl notify test` sends: one notification of each type, marked as a test in
 * their text, with fresh scan IDs so a receiver that drops repeats still shows every test.
 */
import { FINDINGS_NEW, type Notification, SCAN_FAILED } from "@qcs/shared";

export function sampleNotifications(newId: () => string, now: Date): Notification[] {
  const resources = [
    {
      resourceId:
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-sample/providers/Microsoft.App/containerApps/ca-sample",
      kind: "aca",
    },
  ];
  const time = now.toISOString();
  return [
    {
      schemaVersion: 1,
      type: FINDINGS_NEW,
      data: {
        ref: "docker.io/library/nginx:1.27",
        digest: `sha256:${"0".repeat(64)}`,
        registry: "docker.io",
        repository: "library/nginx",
        tag: "1.27",
        minSeverity: "high",
        vulnerabilities: { critical: 1, high: 2, medium: 3, low: 4 },
        previous: { vulnerabilities: { critical: 0, high: 1, medium: 3, low: 4 } },
        resources,
        scanId: newId(),
        scannedAt: time,
      },
    },
    {
      schemaVersion: 1,
      type: SCAN_FAILED,
      data: {
        ref: "ghcr.io/contoso/sample:2.0.0",
        reason: "ImageNotFound",
        description: "A test from scanctl notify test: nothing failed.",
        attempts: 1,
        resources,
        scanId: newId(),
        failedAt: time,
      },
    },
  ];
}
