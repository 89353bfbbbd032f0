/**
 * The `Workloads` table, read only (ingest and its sweep write it): every workload with the
 * references of its images, and the sweep's marker row. A table that does not exist yet holds nothing.
 */
import { RestError, type TableClient } from "@azure/data-tables";
import {
  type Logger,
  parseWorkloadEntity,
  SWEEP_MARKER_KEY,
  SweepMarkerEntitySchema,
  workloadImagesOf,
} from "@qcs/shared";
import type { CoverageWorkload, Inventory } from "../../core/coverage.ts";

type Row = Record<string, unknown>;

export class TableWorkloads {
  readonly #table: TableClient;
  readonly #logger: Logger;

  constructor(table: TableClient, logger: Logger) {
    this.#table = table;
    this.#logger = logger;
  }

  /** One listing of the whole table (the marker row comes with it). */
  async inventory(): Promise<Inventory> {
    const workloads: CoverageWorkload[] = [];
    let lastSweepAt: Date | undefined;
    let skipped = 0;
    try {
      for await (const row of this.#table.listEntities<Row>()) {
        if (row.partitionKey === SWEEP_MARKER_KEY.partitionKey) {
          const marker = SweepMarkerEntitySchema.safeParse(row);
          if (marker.success) lastSweepAt = marker.data.FinishedAt;
          continue;
        }
        const entity = parseWorkload(row);
        if (entity === undefined) {
          skipped += 1;
          continue;
        }
        workloads.push({
          resourceId: entity.ResourceId,
          subscriptionId: entity.SubscriptionId,
          resourceGroup: entity.ResourceGroup,
          name: entity.Name,
          kind: entity.Kind,
          images: workloadImagesOf(entity).map(({ container, ref }) => ({ container, ref })),
        });
      }
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return { workloads: [], lastSweepAt };
      throw error;
    }
    if (skipped > 0)
      this.#logger.warn({ skipped }, "Workloads rows not in the expected format: left out of coverage");
    return { workloads, lastSweepAt };
  }
}

function parseWorkload(row: Row) {
  try {
    return parseWorkloadEntity(row);
  } catch {
    return undefined;
  }
}
