import { createHash } from "node:crypto";
import type { ImageRef } from "../imageRef.ts";

/**
 * The `messageId` of a ScanRequested: hex SHA-256 of the digest (or the canonical reference when no
 * digest is known). Service Bus duplicate detection drops a second request for the same image inside
 * its window. A forced request adds a nonce (its requestId), so it is never dropped as a repeat of an
 * earlier request, yet resending that same forced request is still absorbed.
 */
export function scanRequestMessageId(image: Pick<ImageRef, "ref" | "digest">, forceNonce?: string): string {
  const hash = createHash("sha256").update(image.digest ?? image.ref);
  if (forceNonce !== undefined) hash.update(`\n${forceNonce}`);
  return hash.digest("hex");
}
