/**
 * Which records become lookups: successful writes of container groups, container apps and jobs;
 * successful deletes of them become removals from `Workloads`. Everything else is skipped with a
 * reason that is counted (Start, Accept and Failure records, every other operation, malformed IDs,
 * exclusions).
 */
import type { Exclusions } from "./exclusions.ts";
import type { OperationRecord, RejectionReason } from "./parseBody.ts";
import { formatResourceId, kindOfType, parseResourceId, type ResourceKind } from "./resourceId.ts";

export type SkipReason =
  | RejectionReason
  | "other-operation"
  | "start"
  | "accept"
  | "failure"
  | "unknown-status"
  | "invalid-resource-id"
  | "unexpected-resource-type"
  | "invalid-time"
  | "excluded-resource-group"
  | "excluded-resource-name";

/** A deployed resource to look up in ARM. */
export interface Target {
  kind: ResourceKind;
  /** Canonical spelling (see {@link formatResourceId}); compare lower-cased. */
  resourceId: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  /** ISO time of the event, normalised; undefined when the event had none. */
  eventTime: string | undefined;
  correlationId: string | undefined;
}

/** A write to look up, a delete to remove from `Workloads`, or a skip. */
export type Selection = { selected: Target } | { deleted: Target } | { skipped: SkipReason; detail?: string };

const SKIPPED_STATUS = {
  start: "start",
  accept: "accept",
  failure: "failure",
  unknown: "unknown-status",
} as const;

export function selectRecord(record: OperationRecord, exclusions: Exclusions): Selection {
  const slash = record.operationName.lastIndexOf("/");
  const kind = kindOfType(record.operationName.slice(0, slash));
  if (kind === undefined) return { skipped: "other-operation" };
  const verb = record.operationName.slice(slash + 1);
  if (verb !== "write" && verb !== "delete") return { skipped: "other-operation" };
  if (record.status !== "success") return { skipped: SKIPPED_STATUS[record.status] };

  const id = parseResourceId(record.resourceId);
  if (!id.ok)
    return { skipped: "invalid-resource-id", detail: `${id.reason}: ${record.resourceId.slice(0, 300)}` };
  if (kindOfType(id.value.type) !== kind) {
    return {
      skipped: "unexpected-resource-type",
      detail: `${record.operationName} on a resource of type ${id.value.type}`,
    };
  }
  const eventTime = isoTime(record.eventTime);
  if (eventTime === null)
    return { skipped: "invalid-time", detail: `time ${JSON.stringify(record.eventTime?.slice(0, 100))}` };
  const { subscriptionId, resourceGroup, name } = id.value;
  const target: Target = {
    kind,
    resourceId: formatResourceId(subscriptionId, resourceGroup, kind, name),
    subscriptionId: subscriptionId.toLowerCase(),
    resourceGroup,
    name,
    eventTime,
    correlationId: record.correlationId,
  };
  // A row written before an exclusion was configured must still go when its resource does.
  if (verb === "delete") return { deleted: target };
  if (exclusions.resourceGroup(resourceGroup)) return { skipped: "excluded-resource-group" };
  if (exclusions.resourceName(name)) return { skipped: "excluded-resource-name" };
  return { selected: target };
}

/**
 * The normalised ISO time, or null when it is not a time the contracts accept: Date.parse also
 * reads years beyond 0000-9999 (`+275760-09-13T00:00:00Z`, `Sat Jan 01 10000`), which have no
 * four-digit ISO form.
 */
function isoTime(value: string | undefined): string | undefined | null {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) return null;
  const date = new Date(ms);
  const year = date.getUTCFullYear();
  return year >= 0 && year <= 9999 ? date.toISOString() : null;
}
