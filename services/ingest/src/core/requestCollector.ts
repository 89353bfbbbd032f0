/**
 * Per-batch collection: one entry per distinct image (keyed like the message ID: digest, else
 * canonical reference), with the sources of every container and resource that runs it merged,
 * and the events it came from, so a failed send can be traced back to what must not be checkpointed.
 */
import type { ImageRef, ResourceScanSource } from "@qcs/shared";

/** The contract allows at most 100 sources per request. */
export const MAX_SOURCES = 100;

export interface CollectedImage {
  image: ImageRef;
  sources: ResourceScanSource[];
  eventIndices: Set<number>;
  /** Sources beyond {@link MAX_SOURCES} that were left out. */
  sourcesDropped: number;
}

export class RequestCollector {
  readonly #byKey = new Map<string, CollectedImage>();
  readonly #sourceKeys = new Map<string, Set<string>>();

  add(image: ImageRef, source: ResourceScanSource, eventIndices: Iterable<number>): void {
    const key = image.digest ?? image.ref;
    let entry = this.#byKey.get(key);
    let sourceKeys = this.#sourceKeys.get(key);
    if (entry === undefined || sourceKeys === undefined) {
      entry = { image, sources: [], eventIndices: new Set(), sourcesDropped: 0 };
      sourceKeys = new Set();
      this.#byKey.set(key, entry);
      this.#sourceKeys.set(key, sourceKeys);
    }
    for (const index of eventIndices) entry.eventIndices.add(index);
    const sourceKey = `${source.resourceId.toLowerCase()}\n${source.containerName ?? ""}`;
    if (sourceKeys.has(sourceKey)) return;
    sourceKeys.add(sourceKey);
    if (entry.sources.length < MAX_SOURCES) entry.sources.push(source);
    else entry.sourcesDropped += 1;
  }

  entries(): CollectedImage[] {
    return [...this.#byKey.values()];
  }
}
