import { createHash } from "node:crypto";
import type { ImageRef } from "../imageRef.ts";

/** What identifies the deployment (or sweep) a source comes from: its correlation ID, else its event time. */
export interface DeploymentSource {
  kind: string;
  correlationId?: string | undefined;
  eventTime?: string | undefined;
}

/**
 * The `messageId` of a ScanRequested: hex SHA-256 of the digest, or of the canonical reference when
 * no digest is known. Service Bus duplicate detection drops a second request for the same image
 * inside its window. A tag-only request also hashes the deployments it comes from (each source's
 * correlation ID, else its event time; sorted, without repeats): the records of one deployment
 * (Start/Accept/Success, Activity Log and Event Grid copies share its correlation ID) and the
 * requests of one sweep still collapse, while a redeploy of a tag that may have moved reaches the
 * scanner, which resolves the tag and finds a moved one uncached. A forced request adds a nonce (its
 * requestId), so it is never dropped as a repeat of an earlier request, yet resending that same
 * forced request is still absorbed.
 */
export function scanRequestMessageId(
  image: Pick<ImageRef, "ref" | "digest">,
  forceNonce?: string,
  sources: readonly DeploymentSource[] = [],
): string {
  const hash = createHash("sha256").update(image.digest ?? image.ref);
  if (image.digest === undefined) {
    const deployments = new Set<string>();
    for (const source of sources) {
      const deployment = source.correlationId ?? source.eventTime;
      if (deployment !== undefined) deployments.add(deployment);
    }
    for (const deployment of [...deployments].sort()) hash.update(`\n@${deployment}`);
  }
  if (forceNonce !== undefined) hash.update(`\n${forceNonce}`);
  return hash.digest("hex");
}

/**
 * The `messageId` of a ScanCompleted. A request ends in at most one success (or cached skip), so
 * those are keyed by the request and outcome: a late copy of a result, published by a replica that
 * lost its lock while the redelivered request was scanned elsewhere, is dropped by the topic's
 * duplicate detection. A failure keeps its own scanId, so every failed attempt that reaches the
 * topic (a resubmitted dead letter failing again) is recorded.
 */
export function scanCompletedMessageId(scan: { scanId: string; requestId: string; status: string }): string {
  if (scan.status === "failed") return scan.scanId;
  return createHash("sha256").update(`${scan.requestId}\n${scan.status}`).digest("hex");
}
