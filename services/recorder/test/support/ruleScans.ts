// A result of one image known by tag and digest, numbered so each call is a new scan: the fixture
// of the recorder's rule tests (ScanMetadata merge, ScanHistory rows).
import { parseImageRef, type ScanCompleted, ScanCompletedV1 } from "@qcs/shared";

export const DIGEST = `sha256:${"ab".repeat(32)}`;
export const OTHER_DIGEST = `sha256:${"cd".repeat(32)}`;
export const RESOURCE = (name: string) =>
  `/subscriptions/ed6a948b-ba01-4eea-9471-c147cad379eb/resourceGroups/rg/providers/Microsoft.ContainerInstance/containerGroups/${name}`;

let counter = 0;
export function scan(overrides: Partial<ScanCompleted> = {}): ScanCompleted {
  counter += 1;
  const image = { ...parseImageRef(`mcr.microsoft.com/dotnet/runtime@${DIGEST}`), tag: "8.0" };
  return ScanCompletedV1.parse({
    schemaVersion: 1,
    scanId: `00000000-0000-4000-8000-${String(counter).padStart(12, "0")}`,
    requestId: "5b0c1c1e-3f5e-4a57-9f3e-0a4bb1a7d2c1",
    image,
    sources: [
      {
        kind: "aci",
        resourceId: RESOURCE("ci-one"),
        subscriptionId: "ed6a948b-ba01-4eea-9471-c147cad379eb",
        resourceGroup: "rg",
        resourceName: "ci-one",
      },
    ],
    status: "succeeded",
    attempt: 1,
    startedAt: "2025-03-14T09:00:00.000Z",
    finishedAt: "2025-03-14T09:10:00.000Z",
    durationMs: 600_000,
    scanner: { name: "qscanner", version: "4.8.0-2", mode: "get-report" },
    vulnerabilities: { critical: 1, high: 2, medium: 3, low: 4, informational: 5, total: 15 },
    qualys: { pod: "US2", imageId: "4406e1e53abc" },
    ...overrides,
  });
}
