/**
 * The `Workloads` table: what runs now (container groups, container apps, jobs) and the images of
 * their containers. One writer: ingest (from write and delete events) and its sweep (a periodic
 * listing through Resource Graph that reconciles it). The recorder reads it to serve coverage.
 * Pure: plain objects in the shape `@azure/data-tables` sends and returns.
 *
 * PartitionKey = subscription ID (lower case), so a sweep reconciles one subscription by listing one
 * partition and writes it with batch transactions; RowKey = the lower-cased resource ID, encoded.
 */
import { z } from "zod";
import { ENTITY_DEFAULTS } from "./config/fields.ts";
import { RESOURCE_SOURCE_KINDS } from "./contracts/schemas.ts";
import { isCanonicalImageRef } from "./imageRef.ts";
import { type TableKey, tableKey } from "./scanTables.ts";

export const WORKLOADS_TABLE = ENTITY_DEFAULTS.WORKLOADS_TABLE;

/** The kinds of workload (a sweep source is not a kind of workload). */
export const WORKLOAD_KINDS = RESOURCE_SOURCE_KINDS.filter(
  (kind): kind is Exclude<(typeof RESOURCE_SOURCE_KINDS)[number], "sweep"> => kind !== "sweep",
);
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

/** One container of a workload and the canonical reference of its image. */
export const WorkloadImageSchema = z.object({
  container: z.string().min(1),
  ref: z.string().refine(isCanonicalImageRef, "must be a canonical image reference"),
  init: z.boolean(),
});
export type WorkloadImage = z.infer<typeof WorkloadImageSchema>;

export interface WorkloadEntity extends TableKey {
  /** ARM's resource ID, in ARM's casing. */
  ResourceId: string;
  SubscriptionId: string;
  ResourceGroup: string;
  Name: string;
  Kind: WorkloadKind;
  /** JSON array of {@link WorkloadImage}: every container and init container with a valid image. */
  Images: string;
  FirstSeenAt: Date;
  LastSeenAt: Date;
  /** What saw it last: a write event or a sweep. */
  SeenBy: "event" | "sweep";
}

const storedDate = z.coerce.date().refine((date) => !Number.isNaN(date.getTime()), "not a date");

export const WorkloadEntitySchema = z.object({
  partitionKey: z.string(),
  rowKey: z.string(),
  ResourceId: z.string().min(1),
  SubscriptionId: z.string().min(1),
  ResourceGroup: z.string().min(1),
  Name: z.string().min(1),
  Kind: z.enum(WORKLOAD_KINDS),
  Images: z.string(),
  FirstSeenAt: storedDate,
  LastSeenAt: storedDate,
  SeenBy: z.enum(["event", "sweep"]),
});

/** A stored Workloads row without the SDK's extra fields; throws on a malformed row. */
export function parseWorkloadEntity(raw: unknown): WorkloadEntity {
  return WorkloadEntitySchema.parse(raw);
}

/** The keys of a workload's row, from its resource ID (any casing). */
export function workloadKey(resourceId: string, subscriptionId: string): TableKey {
  return { partitionKey: subscriptionId.toLowerCase(), rowKey: tableKey(resourceId.toLowerCase()) };
}

/** The images of a row; a damaged column reads as none rather than failing the row. */
export function workloadImagesOf(entity: Pick<WorkloadEntity, "Images">): WorkloadImage[] {
  try {
    const parsed = z.array(WorkloadImageSchema).safeParse(JSON.parse(entity.Images));
    return parsed.success ? parsed.data : [];
  } catch {
    return [];
  }
}

/**
 * The time of the last finished sweep: one marker row in `Workloads` that the sweep writes when it
 * has reconciled every subscription (PartitionKey `_sweep`, never a subscription ID, RowKey `last`,
 * column `FinishedAt`). The recorder shows it as coverage's `lastSweepAt`; readers of workloads
 * skip its partition.
 */
export const SWEEP_MARKER_KEY: TableKey = { partitionKey: "_sweep", rowKey: "last" };

export interface SweepMarkerEntity extends TableKey {
  FinishedAt: Date;
}

export const SweepMarkerEntitySchema = z.object({
  partitionKey: z.literal(SWEEP_MARKER_KEY.partitionKey),
  rowKey: z.literal(SWEEP_MARKER_KEY.rowKey),
  FinishedAt: storedDate,
});

/** The marker row to upsert when a sweep finished at `finishedAt`. */
export function sweepMarkerEntity(finishedAt: Date): SweepMarkerEntity {
  return { ...SWEEP_MARKER_KEY, FinishedAt: finishedAt };
}
