/**
 * In-memory stand-ins for a dead-letter queue and the entity copies go to, with the broker rules
 * that matter to settlement: a receive locks what it returns and skips what is locked; abandon
 * unlocks (the message stays, its delivery count grows); complete removes; the target drops a
 * message whose messageId it has seen (duplicate detection). Faults are switched on by tests.
 */
import type { DeadLetter } from "../../src/core/deadLetters.ts";
import type { ResubmissionCopy } from "../../src/core/resubmission.ts";
import type { CopySender, DeadLetterReceiver, LockedDeadLetter } from "../../src/core/settlement.ts";

export function deadLetter(sequenceNumber: number, overrides: Partial<DeadLetter> = {}): DeadLetter {
  return {
    sequenceNumber: BigInt(sequenceNumber),
    messageId: `original-${sequenceNumber}`,
    enqueuedAt: new Date("2026-11-20T10:00:00Z"),
    deliveryCount: 3,
    reason: "ImageNotFound",
    description: "manifest unknown",
    subject: "ScanRequested",
    contentType: "application/json",
    correlationId: undefined,
    sessionId: undefined,
    partitionKey: undefined,
    applicationProperties: { registry: "docker.io", imageRef: `docker.io/library/app${sequenceNumber}:1` },
    body: { image: { ref: `docker.io/library/app${sequenceNumber}:1`, registry: "docker.io" }, force: false },
    ...overrides,
  };
}

interface Entry {
  deadLetter: DeadLetter;
  lock: number | undefined;
}

interface FakeLocked extends LockedDeadLetter {
  lock: number;
}

export class FakeDeadLetterQueue implements DeadLetterReceiver<FakeLocked> {
  readonly entries = new Map<bigint, Entry>();
  /** Completing these fails once each (the lock was lost before the completion arrived). */
  readonly failCompletionOf = new Set<bigint>();
  receiveCalls = 0;
  #nextLock = 1;

  constructor(deadLetters: DeadLetter[]) {
    for (const item of deadLetters)
      this.entries.set(item.sequenceNumber, { deadLetter: item, lock: undefined });
  }

  sequenceNumbers(): bigint[] {
    return [...this.entries.keys()];
  }

  locked(): number {
    return [...this.entries.values()].filter((entry) => entry.lock !== undefined).length;
  }

  /** Every lock expires (as after the lock duration). */
  expireLocks(): void {
    for (const entry of this.entries.values()) entry.lock = undefined;
  }

  async receive(maxCount: number): Promise<FakeLocked[]> {
    this.receiveCalls += 1;
    const out: FakeLocked[] = [];
    for (const entry of this.entries.values()) {
      if (out.length >= maxCount) break;
      if (entry.lock !== undefined) continue;
      entry.lock = this.#nextLock++;
      out.push({ deadLetter: entry.deadLetter, lock: entry.lock });
    }
    return out;
  }

  async complete(message: FakeLocked): Promise<void> {
    const sequenceNumber = message.deadLetter.sequenceNumber;
    const entry = this.entries.get(sequenceNumber);
    if (this.failCompletionOf.delete(sequenceNumber) && entry) entry.lock = undefined;
    if (!entry || entry.lock !== message.lock) throw new Error(`lock lost for ${sequenceNumber}`);
    this.entries.delete(sequenceNumber);
  }

  async abandon(message: FakeLocked): Promise<void> {
    const entry = this.entries.get(message.deadLetter.sequenceNumber);
    if (!entry || entry.lock !== message.lock) throw new Error("lock lost");
    entry.lock = undefined;
    entry.deadLetter = { ...entry.deadLetter, deliveryCount: (entry.deadLetter.deliveryCount ?? 0) + 1 };
  }
}

export class FakeTargetEntity implements CopySender {
  readonly messages: ResubmissionCopy[] = [];
  readonly #seen = new Set<string>();
  /** Copies that fit in one batch. */
  batchSize = 100;
  /** Sends left before every send fails. */
  sendsBeforeFailure = Number.POSITIVE_INFINITY;

  async sendSome(copies: readonly ResubmissionCopy[]): Promise<number> {
    if (this.sendsBeforeFailure <= 0) throw new Error("broker unavailable");
    this.sendsBeforeFailure -= 1;
    const batch = copies.slice(0, this.batchSize);
    for (const copy of batch) {
      if (this.#seen.has(copy.messageId)) continue; // duplicate detection
      this.#seen.add(copy.messageId);
      this.messages.push(copy);
    }
    return batch.length;
  }
}
