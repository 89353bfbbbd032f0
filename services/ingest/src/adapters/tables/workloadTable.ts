/**
 * The `Workloads` table through `@azure/data-tables`: the event path's upsert and remove, and the
 * sweep's listing of one subscription's rows and its batch transactions. FirstSeenAt is kept
 * without a read: an insert that finds the row (409) becomes a merge that leaves FirstSeenAt alone.
 */
import type { TableClient, TransactionAction } from "@azure/data-tables";
import { sweepMarkerEntity, type TableKey } from "@qcs/shared";
import type { WorkloadAction } from "../../core/sweep.ts";
import type { WorkloadStore } from "../../core/workloads.ts";

export function tableWorkloadStore(table: TableClient): WorkloadStore {
  return {
    async upsert(row, abortSignal) {
      try {
        await table.createEntity({ ...row, FirstSeenAt: row.LastSeenAt }, { abortSignal });
      } catch (error) {
        if (statusOf(error) !== 409) throw error;
        await table.upsertEntity(row, "Merge", { abortSignal });
      }
    },
    async remove({ partitionKey, rowKey }, abortSignal) {
      try {
        await table.deleteEntity(partitionKey, rowKey, { abortSignal });
      } catch (error) {
        if (statusOf(error) !== 404) throw error;
      }
    },
  };
}

/** The row keys of one subscription's partition (none while the table does not exist: a dry run's first sweep). */
export async function listWorkloadKeys(table: TableClient, partitionKey: string): Promise<Set<string>> {
  const keys = new Set<string>();
  const rows = table.listEntities<TableKey>({
    queryOptions: { filter: `PartitionKey eq '${partitionKey.replaceAll("'", "''")}'`, select: ["RowKey"] },
  });
  try {
    for await (const row of rows) keys.add(row.rowKey);
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
  }
  return keys;
}

/** The marker row the recorder reads as coverage's `lastSweepAt`. */
export async function markSweepFinished(table: TableClient, finishedAt: Date): Promise<void> {
  await table.upsertEntity(sweepMarkerEntity(finishedAt), "Replace");
}

/** One batch transaction (same partition, at most 100 actions). */
export async function submitWorkloadActions(
  table: TableClient,
  actions: readonly WorkloadAction[],
): Promise<void> {
  await table.submitTransaction(
    actions.map(
      (action): TransactionAction =>
        action.op === "delete"
          ? ["delete", { ...action.key }]
          : action.insert
            ? ["upsert", { ...action.row, FirstSeenAt: action.row.LastSeenAt }, "Replace"]
            : ["upsert", action.row, "Merge"],
    ),
  );
}

function statusOf(error: unknown): number | undefined {
  return (error as { statusCode?: number }).statusCode;
}
