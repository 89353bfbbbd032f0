// Coverage at the size, seeded straight into Azurite: ScanMetadata rows as the recorder writes
// them and Workloads rows in the shared contract (bench/coverage.bench.ts, bench/statusPage.bench.ts).
import { randomUUID } from "node:crypto";
import type { TableClient, TransactionAction } from "@azure/data-tables";
import {
  parseImageRef,
  type ScanMetadataEntity,
  scanCacheKey,
  type WorkloadEntity,
  workloadKey,
} from "@qcs/shared";

export const WORKLOADS = Number(process.env.BENCH_WORKLOADS ?? 10_000);
export const IMAGES = Number(process.env.BENCH_IMAGES ?? 3_000);
export const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 50);
export const SUBSCRIPTIONS = ["aaaaaaaa-0000-4000-8000-000000000001", "bbbbbbbb-0000-4000-8000-000000000002"];
const HOUR = 3_600_000;

export const imageRef = (index: number) => parseImageRef(`myreg.azurecr.io/team/app-${index}:1.${index % 7}`);

/** Whether image `index` last failed (15 % of those with a row). */
export const lastFailed = (index: number) => index % 10 !== 9 && index % 20 >= 17;

/** 90 % of images have a row: of those, 70 % succeeded recently, 15 % long ago, 15 % last failed. */
export function metadataRow(index: number, now: number): ScanMetadataEntity | undefined {
  if (index % 10 === 9) return undefined;
  const image = imageRef(index);
  const key = scanCacheKey(image);
  const kind = index % 20;
  const successAt = new Date(now - (kind < 14 ? 2 : 72) * HOUR);
  const failed = lastFailed(index);
  return {
    partitionKey: key.partitionKey,
    rowKey: key.rowKey,
    Ref: key.ref,
    Registry: key.registry,
    Repository: key.repository,
    Tag: image.tag,
    Alias: false,
    Status: failed ? "failed" : "succeeded",
    LastScanId: randomUUID(),
    LastScanAt: failed ? new Date(now - HOUR) : successAt,
    LastSeenAt: successAt,
    LastSuccessAt: successAt,
    ScanCount: 1,
    VulnCritical: index % 3,
    VulnHigh: index % 5,
    VulnMedium: 1,
    VulnLow: 1,
    VulnInformational: 0,
    VulnTotal: 2 + (index % 3) + (index % 5),
    ...(failed ? { ErrorClass: "ScanTimeout", ErrorMessage: "qscanner ran longer than 1800 s" } : {}),
    ResourceIds: "[]",
    RecentScanIds: "",
  };
}

export function workloadRow(index: number, now: Date): WorkloadEntity {
  const subscriptionId = SUBSCRIPTIONS[index % SUBSCRIPTIONS.length] as string;
  const name = `app-${index}`;
  const resourceId = `/subscriptions/${subscriptionId}/resourceGroups/rg-${index % 40}/providers/Microsoft.App/containerApps/${name}`;
  // One to three containers; every image runs somewhere.
  const refs = [index % IMAGES, (index * 7 + 1) % IMAGES, (index * 13 + 2) % IMAGES].slice(
    0,
    1 + (index % 3),
  );
  return {
    ...workloadKey(resourceId, subscriptionId),
    ResourceId: resourceId,
    SubscriptionId: subscriptionId,
    ResourceGroup: `rg-${index % 40}`,
    Name: name,
    Kind: "aca",
    Images: JSON.stringify(
      refs.map((ref, c) => ({ container: `c${c}`, ref: imageRef(ref).ref, init: false })),
    ),
    FirstSeenAt: now,
    LastSeenAt: now,
    SeenBy: "sweep",
  };
}

/** Batch transactions: same partition, at most 100 actions each. */
export async function seed(table: TableClient, rows: Array<{ partitionKey: string }>): Promise<void> {
  const byPartition = new Map<string, TransactionAction[]>();
  for (const row of rows) {
    const list = byPartition.get(row.partitionKey) ?? [];
    list.push(["upsert", row as never]);
    byPartition.set(row.partitionKey, list);
  }
  for (const actions of byPartition.values()) {
    for (let index = 0; index < actions.length; index += 100)
      await table.submitTransaction(actions.slice(index, index + 100));
  }
}

export async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const value = await work();
  return [value, performance.now() - started];
}

export const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
