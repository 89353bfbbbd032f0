/** The `ScanRequested` of a manual rescan (`scanctl rescan`). */
import {
  buildScanRequestedMessage,
  type OutgoingMessage,
  type ScanRequested,
  tryParseImageRef,
} from "@qcs/shared";
import { usageError } from "./cliError.ts";

export interface ManualScanRequest {
  image: string;
  force: boolean;
  requestId: string;
  requestedAt: Date;
  requestedBy?: string | undefined;
  reason?: string | undefined;
}

/** Throws a usage error when `image` is not an image reference. */
export function manualScanRequest(request: ManualScanRequest): OutgoingMessage<ScanRequested> {
  const parsed = tryParseImageRef(request.image);
  if (!parsed.ok) throw usageError(`not an image reference: "${request.image}" (${parsed.reason})`);
  const { ref, registry, repository, tag, digest } = parsed.value;
  return buildScanRequestedMessage({
    schemaVersion: 1,
    requestId: request.requestId,
    requestedAt: request.requestedAt.toISOString(),
    force: request.force,
    image: {
      ref,
      registry,
      repository,
      ...(tag === undefined ? {} : { tag }),
      ...(digest === undefined ? {} : { digest }),
    },
    sources: [
      {
        kind: "manual",
        ...(request.requestedBy ? { requestedBy: request.requestedBy } : {}),
        ...(request.reason ? { reason: request.reason } : {}),
      },
    ],
  });
}
