/**
 * The replays of one partition batch: events that are not settled are processed again, but not
 * forever. An event still unsettled `giveUpMs` after its first failure is given up (checkpointed
 * past and reported) so one resource that can never be read, or an event that makes processing
 * throw, does not hold back every later event of its partition. Send failures are never given up:
 * a queue that refuses affects every event alike, and its events must be there when it recovers;
 * nor are failed writes to the `Workloads` table, for the same reason.
 * Also remembers what earlier attempts counted, so each event is counted once in the metrics.
 */
import { type CheckpointDecision, decideCheckpoint } from "./checkpoint.ts";
import type { LookupFailureKind } from "./lookup.ts";

export type UnsettledKind = LookupFailureKind | "send-failed" | "table-failed" | "processing-error";

/** Why an event is unsettled: a lookup of one of its resources, a send, or processing that threw. */
export interface UnsettledCause {
  kind: UnsettledKind;
  resourceId?: string;
  correlationId?: string;
  message?: string;
}

export interface UnsettledEvent {
  /** Index of the event in the attempt's events. */
  index: number;
  causes: UnsettledCause[];
}

export interface GivenUpEvent extends UnsettledEvent {
  /** Time since the event's first failure. */
  failingForMs: number;
}

export interface ReplayDecision extends CheckpointDecision {
  /** Events settled without their work done; the checkpoint moves past them. */
  givenUp: GivenUpEvent[];
}

const NEVER_GIVEN_UP = new Set<UnsettledKind>(["send-failed", "table-failed", "aborted"]);

/** What earlier attempts at the same events counted already. */
export class AttemptMemory {
  /** Records read, selected and skipped are counted on the first attempt. */
  recordsCounted = false;
  /** Resources (lower-cased IDs) whose lookup was counted. */
  readonly lookedUp = new Set<string>();
  /** Resources whose outcome (images found or dropped, no containers) was counted. */
  readonly resolved = new Set<string>();
  /** Images (digest, else reference) whose containers were counted. */
  readonly collected = new Set<string>();
  /** Message IDs sent or collapsed by an earlier attempt: meeting them again is not a new duplicate. */
  readonly settled = new Set<string>();
  /** Resources whose `Workloads` row was written or removed: not written again on a replay. */
  readonly stored = new Set<string>();
  /** Images (digest, else reference) whose request broke the contract: counted and logged once. */
  readonly invalid = new Set<string>();
}

export class PartitionReplay {
  readonly memory = new AttemptMemory();
  readonly #giveUpMs: number;
  /** First failure per event, keyed by the event's position in the whole batch. */
  readonly #firstFailedAt = new Map<number, number>();

  /** `giveUpMs` 0: never give up. */
  constructor(giveUpMs: number) {
    this.#giveUpMs = giveUpMs;
  }

  /**
   * After an attempt at `eventCount` events starting at position `offset` of the batch: how far
   * to checkpoint, where to resume, and which events to give up.
   */
  decide(
    offset: number,
    eventCount: number,
    unsettled: readonly UnsettledEvent[],
    nowMs: number,
  ): ReplayDecision {
    const ordered = [...unsettled].sort((a, b) => a.index - b.index);
    for (const event of ordered) {
      const key = offset + event.index;
      if (!this.#firstFailedAt.has(key)) this.#firstFailedAt.set(key, nowMs);
    }
    const givenUp: GivenUpEvent[] = [];
    if (this.#giveUpMs > 0) {
      for (const event of ordered) {
        const failingForMs = nowMs - (this.#firstFailedAt.get(offset + event.index) ?? nowMs);
        if (failingForMs < this.#giveUpMs) continue;
        if (event.causes.some((cause) => NEVER_GIVEN_UP.has(cause.kind))) continue;
        givenUp.push({ ...event, failingForMs });
        // Which event makes processing throw is unknown: give up one at a time, from the head.
        if (event.causes.some((cause) => cause.kind === "processing-error")) break;
      }
    }
    const dropped = new Set(givenUp.map((event) => event.index));
    const stillUnsettled = ordered.map((event) => event.index).filter((index) => !dropped.has(index));
    return { ...decideCheckpoint(eventCount, stillUnsettled), givenUp };
  }
}
