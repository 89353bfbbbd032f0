/**
 * Rows of the `Workloads` table from what ARM (a lookup or Resource Graph) says runs: one per
 * container group, container app or job, with the images of its containers and init containers.
 * Images with an invalid or excluded reference are left out: they are never scanned, so coverage
 * must not wait for them.
 */
import {
  type TableKey,
  tryParseImageRef,
  type WorkloadEntity,
  type WorkloadImage,
  workloadKey,
} from "@qcs/shared";
import type { Exclusions } from "./exclusions.ts";
import type { DeployedResource } from "./lookup.ts";
import { parseResourceId, type ResourceKind } from "./resourceId.ts";

/** A row to write; `FirstSeenAt` is the store's to keep (set on insert, never overwritten). */
export type WorkloadRow = Omit<WorkloadEntity, "FirstSeenAt">;

/** The port to the `Workloads` table used by ingest's event path. */
export interface WorkloadStore {
  /** Inserts with FirstSeenAt = LastSeenAt, or updates keeping FirstSeenAt. Throws on failure. */
  upsert(row: WorkloadRow, signal: AbortSignal): Promise<void>;
  /** Removes the row; a row that is not there is not an error. Throws on failure. */
  remove(key: TableKey, signal: AbortSignal): Promise<void>;
}

/** The row of a deployed resource, or undefined when ARM's ID is not one of ours. */
export function workloadRowOf(
  kind: ResourceKind,
  resource: DeployedResource,
  exclusions: Exclusions,
  seen: { at: Date; by: WorkloadRow["SeenBy"] },
): WorkloadRow | undefined {
  const id = parseResourceId(resource.id);
  if (!id.ok) return undefined;
  const images: WorkloadImage[] = [];
  for (const container of resource.containers) {
    const parsed = tryParseImageRef(container.image ?? "");
    if (!container.name || !parsed.ok || exclusions.image(parsed.value)) continue;
    images.push({ container: container.name, ref: parsed.value.ref, init: container.init });
  }
  return {
    ...workloadKey(resource.id, id.value.subscriptionId),
    ResourceId: resource.id,
    SubscriptionId: id.value.subscriptionId.toLowerCase(),
    ResourceGroup: id.value.resourceGroup,
    Name: id.value.name,
    Kind: kind,
    Images: JSON.stringify(images),
    LastSeenAt: seen.at,
    SeenBy: seen.by,
  };
}
