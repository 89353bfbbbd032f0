/**
 * Message contracts between the services (DESIGN.md "Contracts"), as zod schemas with inferred
 * types. Every boundary validates with these: a producer before it sends, a consumer after it
 * receives.
 */
import { z } from "zod";
import { isCanonicalImageRef, tryParseImageRef } from "../imageRef.ts";

/** Why a scan failed. The dead-letter reason of a failed request is its class. */
export const FAILURE_CLASSES = [
  "InvalidImageReference",
  "ImageNotFound",
  "RegistryAuthFailed",
  "QualysAuthFailed",
  "RateLimited",
  "ScanTimeout",
  "ScannerFailed",
  "ReportNotReady",
  "InvalidMessage",
] as const;
export const FailureClass = z.enum(FAILURE_CLASSES);
export type FailureClass = z.infer<typeof FailureClass>;

/** Dead-letter reasons the broker itself sets, besides our failure classes. */
export const BROKER_DEAD_LETTER_REASONS = ["MaxDeliveryCountExceeded", "TTLExpiredException"] as const;

const isoTime = z.iso.datetime({ offset: true });

export const ImageRefSchema = z
  .object({
    ref: z.string().refine(isCanonicalImageRef, "must be a canonical image reference"),
    registry: z.string().min(1),
    repository: z.string().min(1),
    tag: z.string().min(1).optional(),
    digest: z.string().min(1).optional(),
  })
  .refine(
    (image) => {
      const parsed = tryParseImageRef(image.ref);
      // A ref that does not parse is reported by its own check.
      if (!parsed.ok) return true;
      const { registry, repository, tag, digest } = parsed.value;
      return (
        registry === image.registry &&
        repository === image.repository &&
        (image.digest === undefined || digest === image.digest) &&
        (tag === undefined || image.tag === undefined || tag === image.tag)
      );
    },
    { message: "registry, repository, tag and digest must agree with ref", path: ["ref"] },
  );

export const RESOURCE_SOURCE_KINDS = ["aci", "aca", "aca-job", "sweep"] as const;

/** Where an image runs: a container group, container app or job (or a sweep that found one). */
export const ResourceSource = z.object({
  kind: z.enum(RESOURCE_SOURCE_KINDS),
  resourceId: z.string().min(1),
  subscriptionId: z.string().min(1),
  resourceGroup: z.string().min(1),
  resourceName: z.string().min(1),
  containerName: z.string().min(1).optional(),
  eventTime: isoTime.optional(),
  correlationId: z.string().min(1).optional(),
});

/** A person or script asked for the scan (`scanctl rescan`). */
export const ManualSource = z.object({
  kind: z.literal("manual"),
  requestedBy: z.string().min(1).optional(),
  reason: z.string().min(1).optional(),
});

export const ScanSource = z.discriminatedUnion("kind", [ResourceSource, ManualSource]);
export type ScanSource = z.infer<typeof ScanSource>;
export type ResourceScanSource = z.infer<typeof ResourceSource>;

export const ScanRequestedV1 = z.object({
  schemaVersion: z.literal(1),
  requestId: z.uuid(),
  requestedAt: isoTime,
  force: z.boolean(),
  image: ImageRefSchema,
  sources: z.array(ScanSource).min(1).max(100),
});
export type ScanRequested = z.infer<typeof ScanRequestedV1>;

export const SCAN_STATUSES = ["succeeded", "failed", "skipped"] as const;
export const ScanStatus = z.enum(SCAN_STATUSES);
export type ScanStatus = z.infer<typeof ScanStatus>;

const count = z.number().int().nonnegative();
export const VulnerabilityCounts = z.object({
  critical: count,
  high: count,
  medium: count,
  low: count,
  informational: count,
  total: count,
});
export type VulnerabilityCounts = z.infer<typeof VulnerabilityCounts>;

export const ScanCompletedV1 = z
  .object({
    schemaVersion: z.literal(1),
    scanId: z.uuid(),
    requestId: z.uuid(),
    image: ImageRefSchema,
    sources: z.array(ScanSource).max(100),
    status: ScanStatus,
    skipReason: z.literal("cached").optional(),
    attempt: z.number().int().min(1),
    startedAt: isoTime,
    finishedAt: isoTime,
    durationMs: count,
    scanner: z.object({ name: z.string().min(1), version: z.string().min(1), mode: z.string().min(1) }),
    vulnerabilities: VulnerabilityCounts.optional(),
    qualys: z
      .object({
        pod: z.string().min(1),
        imageId: z.string().min(1).optional(),
        imageSha: z.string().min(1).optional(),
      })
      .optional(),
    error: z
      .object({ class: FailureClass, message: z.string().max(4096), exitCode: z.number().int().optional() })
      .optional(),
  })
  .superRefine((scan, ctx) => {
    if (scan.status === "failed" && !scan.error) {
      ctx.addIssue({ code: "custom", path: ["error"], message: "required when status is failed" });
    }
    if (scan.status === "skipped" && !scan.skipReason) {
      ctx.addIssue({ code: "custom", path: ["skipReason"], message: "required when status is skipped" });
    }
    if (scan.status !== "skipped" && scan.skipReason) {
      ctx.addIssue({ code: "custom", path: ["skipReason"], message: "only allowed when status is skipped" });
    }
    if (Date.parse(scan.finishedAt) < Date.parse(scan.startedAt)) {
      ctx.addIssue({ code: "custom", path: ["finishedAt"], message: "must not be before startedAt" });
    }
  });
export type ScanCompleted = z.infer<typeof ScanCompletedV1>;
