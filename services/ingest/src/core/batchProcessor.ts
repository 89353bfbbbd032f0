/**
 * One batch of Event Hub events from one partition, start to finish: parse and select records,
 * look each distinct resource up once, collect every image once with its sources merged, drop
 * what was requested within the dedup window, send the rest, keep `Workloads` current (upsert what
 * a lookup found, remove what a delete named), and decide how far the partition may be
 * checkpointed: an event is settled only once its requests are on the queue and its row written. I/O goes through the ports passed in; this module decides.
 */
import {
  buildScanRequestedMessage,
  isContractError,
  type Logger,
  type OutgoingMessage,
  type ScanRequested,
  workloadKey,
} from "@qcs/shared";
import { type CheckpointDecision, decideCheckpoint } from "./checkpoint.ts";
import { forEachConcurrently } from "./concurrency.ts";
import type { Exclusions } from "./exclusions.ts";
import { imagesOf } from "./images.ts";
import type { LookupFailureKind, ResourceLookup } from "./lookup.ts";
import { parseEventBody, type RejectionReason } from "./parseBody.ts";
import type { RecentRequests } from "./recentRequests.ts";
import { AttemptMemory, type UnsettledCause, type UnsettledEvent } from "./replay.ts";
import { RequestCollector } from "./requestCollector.ts";
import { SampledLog } from "./sampledLog.ts";
import { type SkipReason, selectRecord, type Target } from "./select.ts";
import { type WorkloadStore, workloadRowOf } from "./workloads.ts";

export type ScanRequestMessage = OutgoingMessage<ScanRequested>;

export interface SendResult {
  /** Message IDs the broker accepted. */
  accepted: ReadonlySet<string>;
  /** Message IDs that can never be sent (larger than the broker allows): logged and settled. */
  rejected?: ReadonlySet<string>;
  /** Why the others were not sent. */
  error?: unknown;
}

/** The port to the `scan-requests` queue. */
export interface ScanRequestSink {
  send(messages: readonly ScanRequestMessage[], signal: AbortSignal): Promise<SendResult>;
}

export interface BatchStats {
  recordsRead: number;
  selected: number;
  /** Successful deletes of watched resources. */
  deletesSelected: number;
  skipped: Partial<Record<SkipReason, number>>;
  lookups: number;
  lookupFailures: Partial<Record<LookupFailureKind, number>>;
  resourcesWithoutContainers: number;
  imagesFound: number;
  /** Per container, except invalid-request: per distinct image whose request broke the contract. */
  imagesDropped: { "invalid-reference": number; "excluded-image": number; "invalid-request": number };
  duplicatesCollapsed: number;
  requestsSent: number;
  requestsRejected: number;
  workloadsUpserted: number;
  workloadsDeleted: number;
  /** Every attempt; the events behind them are processed again. */
  workloadWriteFailures: number;
}

export interface BatchResult extends CheckpointDecision {
  stats: BatchStats;
  /** Every event not settled, with why (what to report if it is given up). */
  unsettled: UnsettledEvent[];
}

export interface BatchProcessorOptions {
  lookup: ResourceLookup;
  sink: ScanRequestSink;
  workloads: WorkloadStore;
  exclusions: Exclusions;
  recent: RecentRequests;
  logger: Logger;
  /** Lookups in flight at once for one batch. */
  lookupConcurrency: number;
  /** Default: the system clock. */
  now?: () => Date;
  /** Default: `crypto.randomUUID`. */
  newId?: () => string;
}

/** Body rejections that mean a producer sent something broken (as opposed to events we do not watch). */
const MALFORMED = new Set<RejectionReason | SkipReason>([
  "not-json",
  "unknown-shape",
  "records-not-array",
  "missing-field",
  "unsupported-specversion",
  "invalid-resource-id",
  "unexpected-resource-type",
  "invalid-time",
]);

export class BatchProcessor {
  readonly #options: BatchProcessorOptions;
  readonly #now: () => Date;
  readonly #newId: () => string;

  constructor(options: BatchProcessorOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => new Date());
    this.#newId = options.newId ?? (() => crypto.randomUUID());
  }

  /**
   * `events` are the bodies of one partition's events, in order; `signal` aborts lookups and sends.
   * A replay of the same events passes the previous attempts' `memory`, so nothing is counted twice.
   */
  async process(
    events: readonly unknown[],
    signal: AbortSignal,
    memory: AttemptMemory = new AttemptMemory(),
  ): Promise<BatchResult> {
    const { logger } = this.#options;
    const stats = emptyStats();
    const unsettled = new Map<number, UnsettledCause[]>();
    const unsettle = (indices: Iterable<number>, cause: UnsettledCause) => {
      for (const index of indices) unsettled.set(index, [...(unsettled.get(index) ?? []), cause]);
    };
    const firstAttempt = !memory.recordsCounted;
    const sampled = new SampledLog(logger);

    const targets = this.#select(
      events,
      firstAttempt ? stats : emptyStats(),
      firstAttempt ? sampled : undefined,
    );
    memory.recordsCounted = true;

    const collector = new RequestCollector();
    /** Writes or removes a row; a failure unsettles the events, which are processed again. */
    const store = async (
      key: string,
      write: () => Promise<void>,
      counter: "workloadsUpserted" | "workloadsDeleted",
      target: Target,
      eventIndices: Set<number>,
    ) => {
      if (memory.stored.has(key)) return;
      try {
        await write();
        memory.stored.add(key);
        stats[counter] += 1;
      } catch (error) {
        stats.workloadWriteFailures += 1;
        const message = errorText(error);
        logger.warn(
          { resourceId: target.resourceId, reason: message },
          "Workloads write failed: its events will be processed again",
        );
        unsettle(eventIndices, { kind: "table-failed", resourceId: target.resourceId, message });
      }
    };
    await forEachConcurrently([...targets.values()], this.#options.lookupConcurrency, async (entry) => {
      const { target, eventIndices } = entry;
      const key = target.resourceId.toLowerCase();
      if (entry.deleted) {
        const rowKey = workloadKey(target.resourceId, target.subscriptionId);
        await store(
          key,
          () => this.#options.workloads.remove(rowKey, signal),
          "workloadsDeleted",
          target,
          eventIndices,
        );
        return;
      }
      if (!memory.lookedUp.has(key)) stats.lookups += 1;
      memory.lookedUp.add(key);
      const result = await this.#options.lookup.lookup(target, signal).catch((error: unknown) => ({
        status: "failed" as const,
        kind: "unexpected" as const,
        retryable: true,
        message: error instanceof Error ? error.message : String(error),
      }));
      if (result.status === "failed") {
        increment(stats.lookupFailures, result.kind);
        const context = { resourceId: target.resourceId, kind: result.kind, reason: result.message };
        if (result.kind === "not-found") logger.info(context, "resource no longer exists: skipped");
        else if (result.retryable) {
          logger.warn(context, "resource lookup failed: its events will be processed again");
          unsettle(eventIndices, {
            kind: result.kind,
            resourceId: target.resourceId,
            correlationId: target.correlationId,
            message: result.message,
          });
        } else logger.error(context, "resource lookup rejected: skipped");
        if (!result.retryable) memory.resolved.add(key);
        return;
      }
      // An outcome an earlier attempt counted is counted (and logged) once.
      const count = !memory.resolved.has(key);
      memory.resolved.add(key);
      const row = workloadRowOf(target.kind, result.resource, this.#options.exclusions, {
        at: this.#now(),
        by: "event",
      });
      if (row)
        await store(
          key,
          () => this.#options.workloads.upsert(row, signal),
          "workloadsUpserted",
          target,
          eventIndices,
        );
      if (result.resource.containers.length === 0) {
        if (!count) return;
        stats.resourcesWithoutContainers += 1;
        logger.warn({ resourceId: result.resource.id }, "resource has no containers: nothing to scan");
        return;
      }
      for (const outcome of imagesOf(target, result.resource, this.#options.exclusions)) {
        if (outcome.ok) {
          if (count) {
            stats.imagesFound += 1;
            // Seen again after its first container in this batch (or an earlier attempt at it).
            const imageKey = outcome.image.digest ?? outcome.image.ref;
            if (memory.collected.has(imageKey)) stats.duplicatesCollapsed += 1;
            memory.collected.add(imageKey);
          }
          collector.add(outcome.image, outcome.source, eventIndices);
          continue;
        }
        if (!count) continue;
        stats.imagesDropped[outcome.reason] += 1;
        const { reason, resourceId, containerName, image, detail } = outcome;
        if (reason === "invalid-reference") {
          sampled.warn(
            reason,
            { resourceId, containerName, image, detail },
            "invalid image reference: not requested",
          );
        } else logger.debug({ resourceId, containerName, image }, "image excluded");
      }
    });

    const now = this.#now();
    const pending: { message: ScanRequestMessage; eventIndices: Set<number> }[] = [];
    for (const entry of collector.entries()) {
      if (entry.sourcesDropped > 0) {
        logger.warn(
          { image: entry.image.ref, sourcesDropped: entry.sourcesDropped },
          "too many sources for one request: some left out",
        );
      }
      let message: ScanRequestMessage;
      try {
        message = buildScanRequestedMessage({
          schemaVersion: 1,
          requestId: this.#newId(),
          requestedAt: now.toISOString(),
          force: false,
          image: entry.image,
          sources: entry.sources,
        });
      } catch (error) {
        // Each request stands alone: one the contract refuses is dropped, the others still go out.
        if (!isContractError(error)) throw error;
        const key = entry.image.digest ?? entry.image.ref;
        if (!memory.invalid.has(key)) {
          stats.imagesDropped["invalid-request"] += 1;
          logger.error({ image: entry.image.ref, reason: error.message }, "invalid scan request: not sent");
        }
        memory.invalid.add(key);
        continue;
      }
      if (this.#options.recent.has(message.messageId, now.getTime())) {
        if (!memory.settled.has(message.messageId)) stats.duplicatesCollapsed += 1;
        memory.settled.add(message.messageId);
        continue;
      }
      pending.push({ message, eventIndices: entry.eventIndices });
    }

    if (pending.length > 0) {
      const sent = await this.#options.sink.send(
        pending.map((entry) => entry.message),
        signal,
      );
      for (const { message, eventIndices } of pending) {
        if (sent.accepted.has(message.messageId)) {
          this.#options.recent.add(message.messageId, now.getTime());
          memory.settled.add(message.messageId);
          stats.requestsSent += 1;
        } else if (sent.rejected?.has(message.messageId)) {
          stats.requestsRejected += 1;
          logger.error(
            { image: message.body.image.ref, sources: message.body.sources.length },
            "scan request larger than Service Bus allows: not sent",
          );
        } else unsettle(eventIndices, { kind: "send-failed", message: errorText(sent.error) });
      }
      if (sent.error !== undefined) {
        logger.warn(
          { err: sent.error, notSent: pending.length - sent.accepted.size - (sent.rejected?.size ?? 0) },
          "sending scan requests failed: their events will be processed again",
        );
      }
    }

    sampled.summarize();
    return {
      ...decideCheckpoint(events.length, unsettled.keys()),
      stats,
      unsettled: [...unsettled].map(([index, causes]) => ({ index, causes })),
    };
  }

  /**
   * Parses and selects every record; one entry per distinct resource, with the events that named it.
   * Malformed records are logged through `sampled` (not on a replay, which logged them already).
   */
  #select(
    events: readonly unknown[],
    stats: BatchStats,
    sampled: SampledLog | undefined,
  ): Map<string, SelectedResource> {
    const { exclusions } = this.#options;
    const targets = new Map<string, SelectedResource>();
    events.forEach((body, index) => {
      for (const item of parseEventBody(body)) {
        stats.recordsRead += 1;
        const selection = item.ok
          ? selectRecord(item.record, exclusions)
          : { skipped: item.reason, detail: item.detail };
        if ("skipped" in selection) {
          increment(stats.skipped, selection.skipped);
          if (MALFORMED.has(selection.skipped)) {
            sampled?.warn(
              selection.skipped,
              { event: index, detail: selection.detail },
              "malformed record skipped",
            );
          }
          continue;
        }
        const deleted = "deleted" in selection;
        if (deleted) stats.deletesSelected += 1;
        else stats.selected += 1;
        const target = deleted ? selection.deleted : selection.selected;
        const key = target.resourceId.toLowerCase();
        const existing = targets.get(key);
        if (existing === undefined) targets.set(key, { target, deleted, eventIndices: new Set([index]) });
        else {
          existing.eventIndices.add(index);
          // The latest event describes the state the lookup will see (or that the resource is gone).
          if ((target.eventTime ?? "") >= (existing.target.eventTime ?? "")) {
            existing.target = target;
            existing.deleted = deleted;
          }
        }
      }
    });
    return targets;
  }
}

/** One resource of a batch: the latest of its events decides whether it is looked up or removed. */
interface SelectedResource {
  target: Target;
  deleted: boolean;
  eventIndices: Set<number>;
}

export function emptyStats(): BatchStats {
  return {
    recordsRead: 0,
    selected: 0,
    deletesSelected: 0,
    skipped: {},
    lookups: 0,
    lookupFailures: {},
    resourcesWithoutContainers: 0,
    imagesFound: 0,
    imagesDropped: { "invalid-reference": 0, "excluded-image": 0, "invalid-request": 0 },
    duplicatesCollapsed: 0,
    requestsSent: 0,
    requestsRejected: 0,
    workloadsUpserted: 0,
    workloadsDeleted: 0,
    workloadWriteFailures: 0,
  };
}

function errorText(error: unknown): string | undefined {
  if (error === undefined) return undefined;
  return error instanceof Error ? error.message : String(error);
}

function increment<K extends string>(counts: Partial<Record<K, number>>, key: K): void {
  counts[key] = (counts[key] ?? 0) + 1;
}
