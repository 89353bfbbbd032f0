/**
 * The sweep's decisions, without I/O: which rows of `Workloads` to insert, update and remove so the
 * swept subscriptions' partitions hold exactly what Resource Graph listed (batch transactions of
 * one partition, at most 100 actions each, as Table Storage requires), and one ScanRequested per
 * distinct image of what it listed.
 */
import {
  buildScanRequestedMessage,
  isContractError,
  type ResourceScanSource,
  scanRequestMessageId,
  type TableKey,
  tryParseImageRef,
  workloadImagesOf,
} from "@qcs/shared";
import type { ScanRequestMessage } from "./batchProcessor.ts";
import type { WorkloadRow } from "./workloads.ts";

/** Table Storage's limit on the actions of one batch transaction. */
export const MAX_BATCH_ACTIONS = 100;
/** The contract's limit on the sources of one request. */
const MAX_SOURCES = 100;

export type WorkloadAction =
  | { op: "upsert"; row: WorkloadRow; insert: boolean }
  | { op: "delete"; key: TableKey };

export interface ReconciliationPlan {
  /** Each batch holds actions of one partition only. */
  batches: WorkloadAction[][];
  inserted: number;
  updated: number;
  deleted: number;
}

/**
 * `found`: the rows the listing produced; `existing`: the row keys stored per partition (one entry
 * per swept subscription, lower-cased); rows of other partitions are never removed.
 */
export function planReconciliation(
  found: readonly WorkloadRow[],
  existing: ReadonlyMap<string, ReadonlySet<string>>,
): ReconciliationPlan {
  const byPartition = new Map<string, Map<string, WorkloadAction>>();
  const partition = (key: string) => {
    const actions = byPartition.get(key) ?? new Map<string, WorkloadAction>();
    byPartition.set(key, actions);
    return actions;
  };
  let inserted = 0;
  let updated = 0;
  let deleted = 0;
  for (const row of found) {
    const actions = partition(row.partitionKey);
    // A resource listed twice (pages overlapping while resources come and go) is written once.
    if (actions.has(row.rowKey)) continue;
    const insert = !existing.get(row.partitionKey)?.has(row.rowKey);
    if (insert) inserted += 1;
    else updated += 1;
    actions.set(row.rowKey, { op: "upsert", row, insert });
  }
  for (const [partitionKey, rowKeys] of existing) {
    const actions = partition(partitionKey);
    for (const rowKey of rowKeys) {
      if (actions.has(rowKey)) continue;
      actions.set(rowKey, { op: "delete", key: { partitionKey, rowKey } });
      deleted += 1;
    }
  }
  const batches: WorkloadAction[][] = [];
  for (const actions of byPartition.values()) {
    const list = [...actions.values()];
    for (let start = 0; start < list.length; start += MAX_BATCH_ACTIONS)
      batches.push(list.slice(start, start + MAX_BATCH_ACTIONS));
  }
  return { batches, inserted, updated, deleted };
}

/**
 * One request per distinct image of `rows`, its sources the workloads running it (kind `sweep`, at
 * most 100). The messageId is the image's usual one salted with the sweep's run ID: repeats within
 * one sweep collapse in Service Bus's duplicate detection, the next sweep's request gets through
 * (the scanner's cache skips an image scanned recently, so that is cheap).
 */
export function sweepRequests(
  rows: readonly WorkloadRow[],
  run: { runId: string; now: Date; newId: () => string },
): ScanRequestMessage[] {
  const sourcesByRef = new Map<string, ResourceScanSource[]>();
  for (const row of rows) {
    for (const image of workloadImagesOf(row)) {
      const sources = sourcesByRef.get(image.ref) ?? [];
      sourcesByRef.set(image.ref, sources);
      if (sources.length >= MAX_SOURCES) continue;
      sources.push({
        kind: "sweep",
        resourceId: row.ResourceId,
        subscriptionId: row.SubscriptionId,
        resourceGroup: row.ResourceGroup,
        resourceName: row.Name,
        containerName: image.container,
      });
    }
  }
  const messages: ScanRequestMessage[] = [];
  for (const [ref, sources] of sourcesByRef) {
    const image = tryParseImageRef(ref);
    if (!image.ok) continue;
    try {
      const message = buildScanRequestedMessage({
        schemaVersion: 1,
        requestId: run.newId(),
        requestedAt: run.now.toISOString(),
        force: false,
        image: image.value,
        sources,
      });
      messages.push({
        ...message,
        messageId: scanRequestMessageId(message.body.image, `sweep ${run.runId}`),
      });
    } catch (error) {
      // Rows hold only canonical references; a request the contract still refuses is left out.
      if (!isContractError(error)) throw error;
    }
  }
  return messages;
}
