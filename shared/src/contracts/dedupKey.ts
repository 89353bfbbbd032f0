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
 * inside its window. A tag-only request also hashes the newest deployment it comes from (the source
 * with the latest event time, named by its correlation ID, else its event time): the records of one
 * deployment (Start/Accept/Success, Activity Log and Event Grid copies share its correlation ID) and
 * the requests of one sweep run still collapse, and so does a request that merely adds an older
 * deployment to one already sent, while a redeploy of a tag that may have moved reaches the scanner,
 * which resolves the tag and finds a moved one uncached. A forced request adds a nonce (its
 * requestId), so it is never dropped as a repeat of an earlier request, yet resending that same
 * forced request is still absorbed.
 */
export function scanRequestMessageId(
  image: Pick<ImageRef, "ref" | "digest">,
  forceNonce?: string,
  sources: readonly DeploymentSource[] = [],
): string {
  const hash = createHash("sha256").update(image.digest ?? image.ref);
  const deployment = image.digest === undefined ? newestDeployment(sources) : undefined;
  if (deployment !== undefined) hash.update(`\n@${deployment}`);
  if (forceNonce !== undefined) hash.update(`\n${forceNonce}`);
  return hash.digest("hex");
}

/** The correlation ID (else event time) of the source with the latest event time; ties by the ID. */
function newestDeployment(sources: readonly DeploymentSource[]): string | undefined {
  let newest: { time: string; id: string } | undefined;
  for (const source of sources) {
    const id = source.correlationId ?? source.eventTime;
    if (id === undefined) continue;
    const millis = source.eventTime === undefined ? Number.NaN : Date.parse(source.eventTime);
    const time = Number.isNaN(millis) ? "" : new Date(millis).toISOString();
    if (newest === undefined || time > newest.time || (time === newest.time && id > newest.id)) {
      newest = { time, id };
    }
  }
  return newest?.id;
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
