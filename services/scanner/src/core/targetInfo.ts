/**
 * The resource context the user's original system sent to Qualys as custom tags. qscanner may
 * accept it as `--scan-target-info key=value` (unconfirmed), so it is only sent when the
 * deployment turns QSCANNER_SEND_TARGET_INFO on. One image may run in many places; the first
 * resource that asked for the scan is described.
 */
import type { ResourceScanSource, ScanSource } from "@qcs/shared";

const CONTAINER_TYPES = { aci: "ACI", aca: "ACA", "aca-job": "ACA-Job", sweep: "sweep" } as const;

export function targetInfoFor(sources: readonly ScanSource[]): Array<readonly [string, string]> {
  const source = sources.find((candidate): candidate is ResourceScanSource => candidate.kind !== "manual");
  if (!source) return [];
  const pairs: Array<readonly [string, string]> = [
    ["azure_subscription", source.subscriptionId],
    ["resource_group", source.resourceGroup],
    ["container_type", CONTAINER_TYPES[source.kind]],
  ];
  return pairs.filter(([, value]) => SAFE_VALUE.test(value));
}

// Azure names never hold control characters or '='; anything that does is left out, not passed on.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what we reject.
const SAFE_VALUE = /^[^\u0000-\u001f\u007f=]{1,256}$/;
