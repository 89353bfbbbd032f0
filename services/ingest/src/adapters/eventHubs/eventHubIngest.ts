/**
 * Reads the `activity-log` hub through `EventHubConsumerClient` with checkpoints in Blob storage
 * (load-balanced across replicas by the checkpoint store) and hands each partition's batches to
 * the core. After each batch it checkpoints as far as the core allows: only past events whose
 * derived messages Service Bus accepted. When a batch is not fully settled, the unsettled events
 * are processed again in place after a backoff, so one partition waits for its dependency while
 * the others go on; on restart, reading resumes at the checkpoint and nothing is lost. An event
 * that stays unsettled longer than the give-up bound is logged, counted and checkpointed past
 * (the core decides which, see core/replay.ts), so it cannot hold its partition back forever.
 */
import { setTimeout as sleep } from "node:timers/promises";
import {
  type EventHubConsumerClient,
  earliestEventPosition,
  type PartitionContext,
  type ReceivedEventData,
  type Subscription,
} from "@azure/event-hubs";
import type { Logger } from "@qcs/shared";
import { type BatchResult, emptyStats } from "../../core/batchProcessor.ts";
import { type AttemptMemory, type GivenUpEvent, PartitionReplay } from "../../core/replay.ts";

export interface EventHubIngestOptions {
  client: EventHubConsumerClient;
  /** The core: one partition's event bodies in order -> how far to checkpoint. */
  process: (bodies: unknown[], signal: AbortSignal, memory: AttemptMemory) => Promise<BatchResult>;
  logger: Logger;
  /** Called after every attempt at a batch (metrics); a replay reports only what it adds. */
  onBatch?: (result: BatchResult) => void;
  /** Called when an attempt at a batch threw (metrics). */
  onBatchFailed?: () => void;
  /** Called with the events given up (metrics). */
  onGiveUp?: (events: GivenUpEvent[]) => void;
  /** How long an event may stay unsettled before it is given up; 0: never. */
  giveUpAfterMs: number;
  maxBatchSize: number;
  /** How long one read waits for events. Default: 30 s. */
  maxWaitTimeInSeconds?: number;
  /** Delay before processing unsettled events again: doubles from `initialMs` up to `maxMs`. */
  retry?: { initialMs: number; maxMs: number };
}

const DEFAULT_RETRY = { initialMs: 1000, maxMs: 60_000 };

export class EventHubIngest {
  readonly #options: EventHubIngestOptions;
  readonly #retry: { initialMs: number; maxMs: number };
  /** Fires when intake stops: no new batch starts, retries stop waiting. */
  readonly #stopping = new AbortController();
  /** Fires at the shutdown deadline: lookups and sends in flight give up. */
  readonly #abandon = new AbortController();
  readonly #inFlight = new Set<Promise<void>>();
  #subscription: Subscription | undefined;

  constructor(options: EventHubIngestOptions) {
    this.#options = options;
    this.#retry = options.retry ?? DEFAULT_RETRY;
  }

  start(): void {
    const { client, logger } = this.#options;
    this.#subscription = client.subscribe(
      {
        processEvents: (events, context) => this.#track(this.#processEvents(events, context)),
        processError: async (error, context) => {
          logger.warn(
            { err: error, partitionId: context.partitionId || undefined },
            "Event Hubs consumer error",
          );
        },
        processInitialize: async (context) => {
          logger.info({ partitionId: context.partitionId }, "partition claimed");
        },
        processClose: async (reason, context) => {
          logger.info({ partitionId: context.partitionId, reason }, "partition released");
        },
      },
      {
        maxBatchSize: this.#options.maxBatchSize,
        maxWaitTimeInSeconds: this.#options.maxWaitTimeInSeconds ?? 30,
        startPosition: earliestEventPosition,
        // The core decodes the bytes itself, so a body that is not JSON gets a precise reason.
        skipParsingBodyAsJson: true,
      },
    );
  }

  /** Whether the hub answers (readiness). */
  async ready(): Promise<boolean> {
    await this.#options.client.getEventHubProperties({ abortSignal: AbortSignal.timeout(2000) });
    return true;
  }

  /** Lifecycle step 1: no new batch is processed; a batch in flight finishes its current attempt. */
  stopIntake(): void {
    this.#stopping.abort();
  }

  /** Lifecycle step 2: waits for batches in flight; at the deadline their lookups and sends give up. */
  async drain(deadline: AbortSignal): Promise<void> {
    const onDeadline = () => this.#abandon.abort();
    deadline.addEventListener("abort", onDeadline, { once: true });
    try {
      await Promise.allSettled([...this.#inFlight]);
    } finally {
      deadline.removeEventListener("abort", onDeadline);
    }
  }

  /** Lifecycle step 3: stops reading and gives up partition ownership so another replica takes over at once. */
  async close(): Promise<void> {
    this.#stopping.abort();
    await this.#subscription?.close();
  }

  async #track(work: Promise<void>): Promise<void> {
    this.#inFlight.add(work);
    try {
      await work;
    } finally {
      this.#inFlight.delete(work);
    }
  }

  async #processEvents(events: ReceivedEventData[], context: PartitionContext): Promise<void> {
    const { logger } = this.#options;
    const replay = new PartitionReplay(this.#options.giveUpAfterMs);
    let offset = 0;
    let delayMs = this.#retry.initialMs;
    while (offset < events.length && !this.#stopping.signal.aborted) {
      const remaining = events.slice(offset);
      const result = await this.#attempt(remaining, context, replay.memory);
      const decision = replay.decide(offset, remaining.length, result.unsettled, Date.now());
      if (decision.givenUp.length > 0) this.#reportGivenUp(decision.givenUp, remaining, context);
      const last = remaining[decision.checkpointIndex];
      if (last !== undefined) await this.#checkpoint(context, last);
      if (decision.retryFrom === undefined) return;
      offset += decision.retryFrom;
      // Giving up changed what is at the head: try that at once.
      if (decision.givenUp.length > 0) continue;
      logger.warn(
        { partitionId: context.partitionId, unsettled: events.length - offset, retryInMs: delayMs },
        "events not fully processed: processing them again after a pause",
      );
      await sleep(delayMs, undefined, { signal: this.#stopping.signal }).catch(() => {});
      delayMs = Math.min(delayMs * 2, this.#retry.maxMs);
    }
  }

  async #attempt(
    events: ReceivedEventData[],
    context: PartitionContext,
    memory: AttemptMemory,
  ): Promise<BatchResult> {
    try {
      const result = await this.#options.process(
        events.map((event) => event.body),
        this.#abandon.signal,
        memory,
      );
      this.#options.onBatch?.(result);
      return result;
    } catch (error) {
      // A defect, not a dependency: keep the events (no checkpoint) and keep the partition alive.
      this.#options.logger.error(
        { err: error, partitionId: context.partitionId },
        "processing a batch failed",
      );
      this.#options.onBatchFailed?.();
      const message = error instanceof Error ? error.message : String(error);
      return {
        checkpointIndex: -1,
        retryFrom: 0,
        stats: emptyStats(),
        unsettled: events.map((_, index) => ({ index, causes: [{ kind: "processing-error", message }] })),
      };
    }
  }

  #reportGivenUp(givenUp: GivenUpEvent[], events: ReceivedEventData[], context: PartitionContext): void {
    for (const event of givenUp) {
      this.#options.logger.error(
        {
          partitionId: context.partitionId,
          sequenceNumber: events[event.index]?.sequenceNumber,
          failingForSeconds: Math.round(event.failingForMs / 1000),
          kinds: [...new Set(event.causes.map((cause) => cause.kind))],
          resourceIds: event.causes.flatMap((cause) => cause.resourceId ?? []),
          correlationIds: event.causes.flatMap((cause) => cause.correlationId ?? []),
          causes: event.causes,
        },
        "event given up after failing for longer than INGEST_RETRY_GIVE_UP_SECONDS: checkpointed past it; rescan its resources' images with scanctl rescan",
      );
    }
    this.#options.onGiveUp?.(givenUp);
  }

  async #checkpoint(context: PartitionContext, event: ReceivedEventData): Promise<void> {
    try {
      await context.updateCheckpoint(event);
    } catch (error) {
      // The next batch's checkpoint covers this one; a restart before it replays a few events.
      this.#options.logger.warn(
        { err: error, partitionId: context.partitionId, sequenceNumber: event.sequenceNumber },
        "checkpoint failed",
      );
    }
  }
}
