/**
 * Scan records in Azure Table Storage (`@azure/data-tables`): the writer the core records with
 * and the reader the API queries. Translates the service's answers into the core's terms: 409 on
 * create and 412 on a conditional replace are write conflicts, 400/413 mean storage refuses the
 * content itself; everything else is an outage the caller retries.
 */
import { odata, RestError, type TableClient, type TableEntityResult } from "@azure/data-tables";
import {
  type ImageRef,
  type Logger,
  parseScanMetadataEntity,
  type ScanMetadataEntity,
  scanCacheKey,
  type TableKey,
  tableKey,
} from "@qcs/shared";
import { ContentRejectedError } from "../../core/handleScanCompleted.ts";
import { type ScanRecordWriter, type StoredMetadata, WriteConflictError } from "../../core/ports.ts";
import {
  HISTORY_TIMELINE_PARTITION,
  historyPartitionKey,
  type ScanHistoryEntity,
} from "../../core/scanHistory.ts";
import type {
  HistoryPage,
  HistoryPageRequest,
  LatestFilter,
  LatestPage,
  LatestPageRequest,
  LatestStateOf,
  ScanRecordReader,
} from "../../core/scanQueries.ts";

export interface TableScanRecordsOptions {
  metadata: TableClient;
  history: TableClient;
  logger: Logger;
}

type Row = Record<string, unknown>;

export class TableScanRecords implements ScanRecordWriter, ScanRecordReader {
  readonly #metadata: TableClient;
  readonly #history: TableClient;
  readonly #logger: Logger;

  constructor(options: TableScanRecordsOptions) {
    this.#metadata = options.metadata;
    this.#history = options.history;
    this.#logger = options.logger;
  }

  /** Creates both tables when missing (at start; creating an existing table is a no-op). */
  async ensureTables(): Promise<void> {
    await Promise.all([this.#metadata.createTable(), this.#history.createTable()]);
  }

  /** One cheap read per table: the readiness check. */
  async ping(): Promise<boolean> {
    await Promise.all(
      [this.#metadata, this.#history].map(async (table) => {
        const pages = table.listEntities({ queryOptions: { select: ["RowKey"] } }).byPage({ maxPageSize: 1 });
        await pages.next();
      }),
    );
    return true;
  }

  async readMetadata(key: TableKey): Promise<StoredMetadata | undefined> {
    const row = await this.#get(key);
    if (!row) return undefined;
    return { entity: this.#parse(row), etag: row.etag };
  }

  async createMetadata(entity: ScanMetadataEntity): Promise<void> {
    await translate(() => this.#metadata.createEntity(entity), { 409: "row exists" });
  }

  async replaceMetadata(entity: ScanMetadataEntity, etag: string): Promise<void> {
    await translate(() => this.#metadata.updateEntity(entity, "Replace", { etag }), {
      412: "row changed",
      404: "row deleted",
    });
  }

  async insertHistory(entity: ScanHistoryEntity): Promise<boolean> {
    try {
      await translate(() => this.#history.createEntity(entity), { 409: "row exists" });
      return true;
    } catch (error) {
      if (error instanceof WriteConflictError) return false;
      throw error;
    }
  }

  async list(filter: LatestFilter, page: LatestPageRequest): Promise<LatestPage> {
    const clauses = [odata`Alias eq false`];
    if (filter.registry !== undefined) clauses.push(odata`PartitionKey eq ${tableKey(filter.registry)}`);
    if (filter.status !== undefined) clauses.push(odata`Status eq ${filter.status}`);
    if (filter.since !== undefined) clauses.push(odata`LastScanAt ge ${filter.since}`);
    const query = this.#metadata.listEntities<Row>({ queryOptions: { filter: clauses.join(" and ") } });
    const items: ScanMetadataEntity[] = [];
    let continuation = page.continuation;
    // A filtered query may answer with fewer rows than asked (even none) and a token: ask again
    // for what is missing, never for more than the page holds.
    do {
      const next = await query
        .byPage({ maxPageSize: page.limit - items.length, continuationToken: continuation })
        .next();
      if (next.done) return { items };
      for (const row of next.value) {
        const entity = this.#parse(row);
        if (entity) items.push(entity);
      }
      continuation = next.value.continuationToken;
    } while (continuation !== undefined && items.length < page.limit);
    return { items, continuation };
  }

  async all(): Promise<ScanMetadataEntity[]> {
    const rows: ScanMetadataEntity[] = [];
    for await (const row of this.#metadata.listEntities<Row>({
      queryOptions: { filter: odata`Alias eq false` },
    })) {
      const entity = this.#parse(row);
      if (entity) rows.push(entity);
    }
    return rows;
  }

  async allStates(): Promise<LatestStateOf> {
    const rows = new Map<string, ScanMetadataEntity>();
    for await (const row of this.#metadata.listEntities<Row>()) {
      const entity = this.#parse(row);
      if (entity) rows.set(rowId(entity), entity);
    }
    return (image) => rows.get(rowId(scanCacheKey(image)));
  }

  async latestOf(image: ImageRef): Promise<ScanMetadataEntity | undefined> {
    const row = await this.#get(scanCacheKey(image));
    return row && this.#parse(row);
  }

  historyOf(image: ImageRef, page: HistoryPageRequest): Promise<HistoryPage> {
    return this.#historyPage(historyPartitionKey(image.ref), page);
  }

  timeline(page: HistoryPageRequest): Promise<HistoryPage> {
    return this.#historyPage(HISTORY_TIMELINE_PARTITION, page);
  }

  async #historyPage(partitionKey: string, options: HistoryPageRequest): Promise<HistoryPage> {
    const filter =
      options.after === undefined
        ? odata`PartitionKey eq ${partitionKey}`
        : odata`PartitionKey eq ${partitionKey} and RowKey gt ${options.after}`;
    const items: ScanHistoryEntity[] = [];
    // One more than asked, to know whether another page follows.
    const pages = this.#history
      .listEntities<Row>({ queryOptions: { filter } })
      .byPage({ maxPageSize: options.limit + 1 });
    for await (const page of pages) {
      for (const row of page) items.push(historyEntity(row));
      if (items.length > options.limit) break;
    }
    const more = items.length > options.limit;
    const kept = items.slice(0, options.limit);
    return more ? { items: kept, after: kept.at(-1)?.rowKey } : { items: kept };
  }

  async #get(key: TableKey): Promise<TableEntityResult<Row> | undefined> {
    try {
      return await this.#metadata.getEntity<Row>(key.partitionKey, key.rowKey);
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return undefined;
      throw error;
    }
  }

  #parse(row: Row): ScanMetadataEntity | undefined {
    try {
      return parseScanMetadataEntity(row);
    } catch {
      this.#logger.warn(
        { partitionKey: row.partitionKey, rowKey: row.rowKey },
        "ScanMetadata row not in the recorder's format: ignored until a scan of it replaces it",
      );
      return undefined;
    }
  }
}

const rowId = (key: TableKey) => `${key.partitionKey}\n${key.rowKey}`;

function historyEntity(row: Row): ScanHistoryEntity {
  const { etag: _etag, timestamp: _timestamp, ...entity } = row;
  return entity as unknown as ScanHistoryEntity;
}

/** Runs a write; the given status codes become write conflicts, 400/413 content rejections. */
async function translate<T>(write: () => Promise<T>, conflicts: Partial<Record<number, string>>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (error instanceof RestError && error.statusCode !== undefined) {
      const conflict = conflicts[error.statusCode];
      if (conflict !== undefined) throw new WriteConflictError(conflict);
      if (error.statusCode === 400 || error.statusCode === 413) {
        throw new ContentRejectedError(
          `Table Storage rejected the entity: ${error.code ?? error.statusCode}`,
        );
      }
    }
    throw error;
  }
}
