// What the shared samples must yield against the sample inventory: all four in one batch (the later
// Event Grid event times win), or the two Activity Log bodies alone (their times; deterministic however
// the Event Hubs client splits them into batches, since no resource appears in both).
import { parseImageRef, type ResourceScanSource, type ScanRequested } from "@qcs/shared";
import { SUBSCRIPTION } from "./fixtures.ts";

const aciSource = {
  kind: "aci",
  resourceId: `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-payments-prod/providers/Microsoft.ContainerInstance/containerGroups/ci-invoice-worker`,
  subscriptionId: SUBSCRIPTION,
  resourceGroup: "rg-payments-prod",
  resourceName: "ci-invoice-worker",
  // The Event Grid event is later than the Activity Log record of the same write.
  eventTime: "2025-03-14T09:21:11.603Z",
  correlationId: "b68e55d5-4884-455a-8245-8e83155b7790",
} as const;
const acaSource = {
  kind: "aca",
  resourceId: `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-checkout-prod/providers/Microsoft.App/containerApps/ca-checkout-api`,
  subscriptionId: SUBSCRIPTION,
  resourceGroup: "rg-checkout-prod",
  resourceName: "ca-checkout-api",
  eventTime: "2025-03-14T11:40:41.410Z",
  correlationId: "87525956-2487-451a-a4ef-8affca33d56d",
} as const;
const jobSource = {
  kind: "aca-job",
  resourceId: `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-checkout-prod/providers/Microsoft.App/jobs/caj-nightly-reconcile`,
  subscriptionId: SUBSCRIPTION,
  resourceGroup: "rg-checkout-prod",
  resourceName: "caj-nightly-reconcile",
  eventTime: "2025-03-14T12:05:19.812Z",
  correlationId: "bad6c609-69ff-4dc0-919a-60d106c4614f",
} as const;

const at = (base: Omit<ResourceScanSource, "containerName">, containerName: string): ResourceScanSource => ({
  ...base,
  containerName,
});

const ACTIVITY_LOG_TIMES = {
  aci: "2025-03-14T09:21:11.554Z",
  aca: "2025-03-14T11:40:41.331Z",
  job: "2025-03-14T12:05:19.774Z",
};

/** Image and sources of every request, sorted by image reference. */
export function expectedSampleRequests(
  samples: "all" | "activity-log" = "all",
): Pick<ScanRequested, "image" | "sources">[] {
  const [aci, aca, job] =
    samples === "all"
      ? [aciSource, acaSource, jobSource]
      : [
          { ...aciSource, eventTime: ACTIVITY_LOG_TIMES.aci },
          { ...acaSource, eventTime: ACTIVITY_LOG_TIMES.aca },
          { ...jobSource, eventTime: ACTIVITY_LOG_TIMES.job },
        ];
  const requests: [string, ResourceScanSource[]][] = [
    [
      "contosoprod.azurecr.io/checkout/api@sha256:440637c14e5dfa5d8e16ad444190cfe3b4231692bad07b4586747c3f91011e53",
      [at(aca, "checkout-api")],
    ],
    ["contosoprod.azurecr.io/checkout/reconcile:2025.03.1", [at(job, "reconcile")]],
    [
      "contosoprod.azurecr.io/payments/invoice-migrations@sha256:9490be4058e03b7603b81fb5f077816aa0263395d83e7d54c4259f49ae2413f1",
      [at(aci, "db-migrate")],
    ],
    ["contosoprod.azurecr.io/payments/invoice-worker:2.4.1", [at(aci, "invoice-worker")]],
    ["docker.io/fluent/fluent-bit:3.1", [at(aci, "log-shipper")]],
    [
      "ghcr.io/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector-contrib:0.104.0",
      [at(aca, "otel-collector")],
    ],
    // One image in two resources: one request, both sources.
    ["mcr.microsoft.com/azure-cli:2.63.0", [at(aca, "warm-cache"), at(job, "warm-cache")]],
    ["mcr.microsoft.com/dotnet/runtime:8.0", [at(aca, "dotnet-runtime-probe")]],
  ];
  return requests.map(([ref, sources]) => ({ image: parseImageRef(ref), sources }));
}

/** Requests reduced to image and sources (sources sorted), sorted by image reference, for comparison. */
export function comparable(bodies: readonly ScanRequested[]): Pick<ScanRequested, "image" | "sources">[] {
  return bodies
    .map((body) => ({
      image: body.image,
      sources: [...body.sources].sort((a, b) =>
        `${"resourceId" in a ? a.resourceId : ""}`.localeCompare("resourceId" in b ? b.resourceId : ""),
      ),
    }))
    .sort((a, b) => a.image.ref.localeCompare(b.image.ref));
}
