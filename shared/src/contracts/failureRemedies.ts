/**
 * What an operator does about each failure class: the scanner writes it into a dead letter's
 * description, the recorder's status page shows it beside the failures it recorded.
 */
import type { FailureClass } from "./schemas.ts";

export const FAILURE_REMEDIES: Readonly<Record<FailureClass, string>> = {
  InvalidMessage:
    "The message is not a valid ScanRequested (schemaVersion 1). Fix the producer that sent it; resubmitting it unchanged fails again.",
  InvalidImageReference:
    "The image reference is not valid. Correct it at the source, or request a scan of the right reference with `scanctl rescan`.",
  ImageNotFound:
    "The registry has no such image or tag (deleted, or the tag moved). If it still runs, push it back or rescan its current reference; otherwise discard this dead letter.",
  RegistryAuthFailed:
    "The registry refused the scanner's credentials. Grant the scanner's managed identity AcrPull on the registry (or make the repository public), then resubmit.",
  QualysAuthFailed:
    "Qualys rejected the access token. Renew QUALYS_ACCESS_TOKEN (the Key Vault secret) and check QUALYS_POD, then resubmit the dead letters of this class.",
  RateLimited:
    "The registry or Qualys kept rate-limiting. Lower SCANNER_CONCURRENCY or the replica limit, then resubmit.",
  ReportNotReady:
    "Qualys did not produce the vulnerability report in time (the scan data was uploaded). Check the Qualys platform status, then resubmit.",
  ScanTimeout:
    "qscanner did not finish within SCAN_TIMEOUT. Raise SCAN_TIMEOUT for very large images (or check registry bandwidth), then resubmit.",
  ScannerFailed:
    "qscanner failed. Read the error above and the scanner logs for this requestId (a wrong QSCANNER_VERSION, a missing binary or blocked egress are common causes), then resubmit.",
};

/** The remedy of a recorded error class; undefined for a class this version does not know. */
export function remedyOf(errorClass: string): string | undefined {
  return Object.hasOwn(FAILURE_REMEDIES, errorClass)
    ? FAILURE_REMEDIES[errorClass as FailureClass]
    : undefined;
}
