/**
 * In-memory stand-in for the Table Storage adapter with the same semantics the core relies on:
 * ETags that change on every write, create-if-absent, insert-if-absent for history. Every call
 * yields to the event loop first, so concurrent callers interleave as they do against a server.
 * `failNext(n)` makes the next n calls fail like an unreachable server.
 */
import type { ScanMetadataEntity, TableKey } from "@qcs/shared";
import { type ScanRecordWriter, type StoredMetadata, WriteConflictError } from "../../src/core/ports.ts";
import type { ScanHistoryEntity } from "../../src/core/scanHistory.ts";

const keyOf = (key: TableKey) => `${key.partitionKey}\u0000${key.rowKey}`;

export class InMemoryScanRecords implements ScanRecordWriter {
  readonly metadata = new Map<string, StoredMetadata>();
  readonly history = new Map<string, ScanHistoryEntity>();
  #version = 0;
  #failures = 0;
  calls = 0;

  failNext(count: number): void {
    this.#failures = count;
  }

  async #enter(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.calls += 1;
    if (this.#failures > 0) {
      this.#failures -= 1;
      throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:10002"), { code: "ECONNREFUSED" });
    }
  }

  async readMetadata(key: TableKey): Promise<StoredMetadata | undefined> {
    await this.#enter();
    const stored = this.metadata.get(keyOf(key));
    return stored && { entity: structuredClone(stored.entity), etag: stored.etag };
  }

  async createMetadata(entity: ScanMetadataEntity): Promise<void> {
    await this.#enter();
    if (this.metadata.has(keyOf(entity))) throw new WriteConflictError("row exists");
    this.metadata.set(keyOf(entity), { entity: structuredClone(entity), etag: this.#nextEtag() });
  }

  async replaceMetadata(entity: ScanMetadataEntity, etag: string): Promise<void> {
    await this.#enter();
    const stored = this.metadata.get(keyOf(entity));
    if (!stored || stored.etag !== etag) throw new WriteConflictError("row changed");
    this.metadata.set(keyOf(entity), { entity: structuredClone(entity), etag: this.#nextEtag() });
  }

  async insertHistory(entity: ScanHistoryEntity): Promise<boolean> {
    await this.#enter();
    if (this.history.has(keyOf(entity))) return false;
    this.history.set(keyOf(entity), structuredClone(entity));
    return true;
  }

  metadataRow(key: TableKey): ScanMetadataEntity | undefined {
    return this.metadata.get(keyOf(key))?.entity;
  }

  #nextEtag(): string {
    this.#version += 1;
    return `W/"${this.#version}"`;
  }
}
