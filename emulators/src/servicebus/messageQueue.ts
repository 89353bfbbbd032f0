/**
 * The message store of one entity receivers read from: a queue, a subscription, or the dead-letter
 * queue of either. It owns sequence numbers, peek-lock (locks, expiry, renewal, delivery counts),
 * deferral, scheduled messages, time-to-live and dead-lettering, and hands messages to its
 * consumers as their credit allows.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { AmqpError, Condition } from "../amqp/errors.ts";
import { NumberHeap, SequenceIndex } from "./collections.ts";
import type { Journal } from "./journal.ts";
import {
  encodeForDelivery,
  type IncomingMessage,
  lockTokenToTag,
  type StoredMessage,
  withApplicationProperties,
} from "./message.ts";
import { toPersisted } from "./persistedMessage.ts";

export interface QueueSettings {
  lockDurationMs: number;
  /** Deliveries after which an abandoned or expired-lock message is dead-lettered. */
  maxDeliveryCount: number;
  defaultTtlMs: number;
  deadLetterOnExpiration: boolean;
}

/** A receiver link as the store sees it. */
export interface Consumer {
  readonly presettled: boolean;
  credit(): number;
  deliver(payload: Buffer, tag: Buffer): void;
}

export interface DeadLetterDetails {
  reason?: string;
  description?: string;
  /** Application properties to add or overwrite on the dead-lettered message. */
  properties?: Record<string, unknown>;
}

/** Where dead letters go: the entity's own dead-letter queue, or a forwarding target. */
export type DeadLetterSink = (message: IncomingMessage & Partial<StoredMessage>) => void;

export const MAX_DELIVERY_COUNT_EXCEEDED = "MaxDeliveryCountExceeded";
export const TTL_EXPIRED = "TTLExpiredException";

/** setTimeout's limit; later deadlines are reached in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Expired messages are swept at most this often (each sweep walks the store). */
const EXPIRY_SWEEP_MIN_INTERVAL_MS = 1000;

export class MessageQueue {
  readonly path: string;
  readonly settings: QueueSettings;
  /** Undefined for a dead-letter queue itself. */
  readonly #deadLetter: DeadLetterSink | undefined;
  /** With a data directory: every change that outlives a lock is recorded here. */
  readonly #journal: Journal | undefined;
  readonly #messages = new Map<number, StoredMessage>();
  readonly #available = new NumberHeap();
  readonly #index = new SequenceIndex((sequenceNumber) => this.#messages.has(sequenceNumber));
  readonly #locks = new Map<string, StoredMessage>();
  readonly #consumers: Consumer[] = [];
  readonly #scheduleTimers = new Map<number, NodeJS.Timeout>();
  #nextSequenceNumber = 1;
  #nextConsumer = 0;
  #pumping = false;
  #pumpAgain = false;
  #expiryTimer: NodeJS.Timeout | undefined;
  #nextExpiry = Number.POSITIVE_INFINITY;
  #closed = false;

  constructor(path: string, settings: QueueSettings, deadLetter?: DeadLetterSink, journal?: Journal) {
    this.path = path;
    this.settings = settings;
    this.#deadLetter = deadLetter;
    this.#journal = journal;
  }

  /** The sequence number the next stored message gets. */
  get nextSequenceNumber(): number {
    return this.#nextSequenceNumber;
  }

  /** Every message held, in no particular order (the journal's snapshot). */
  messages(): IterableIterator<StoredMessage> {
    return this.#messages.values();
  }

  /**
   * Takes back a message from the journal after a restart. A message locked when the broker stopped
   * is released as on a lock loss (dead-lettered past the maximum delivery count); one whose
   * enqueue time is ahead waits as scheduled.
   */
  restore(message: StoredMessage, now = Date.now()): void {
    this.#nextSequenceNumber = Math.max(this.#nextSequenceNumber, message.sequenceNumber + 1);
    this.#messages.set(message.sequenceNumber, message);
    this.#index.add(message.sequenceNumber);
    if (message.deferred) message.state = "deferred";
    else if (message.enqueuedAt > now) {
      message.state = "scheduled";
      this.#scheduleActivation(message);
    } else this.#release(message);
  }

  /** Never hands out a sequence number below `next` (numbers keep increasing across restarts). */
  restoreNextSequenceNumber(next: number): void {
    this.#nextSequenceNumber = Math.max(this.#nextSequenceNumber, next);
  }

  /** Messages held (active, locked, deferred, scheduled). */
  get size(): number {
    return this.#messages.size;
  }

  /** Messages by state (`scanctl status` reads them through the management API). */
  countByState(): Record<StoredMessage["state"], number> {
    const counts = { available: 0, locked: 0, deferred: 0, scheduled: 0 };
    for (const message of this.#messages.values()) counts[message.state] += 1;
    return counts;
  }

  /** Receiver links attached. */
  get consumerCount(): number {
    return this.#consumers.length;
  }

  /** Stores a sent message (scheduled ones wait for their time). Returns its sequence number. */
  enqueue(incoming: IncomingMessage, now = Date.now()): number {
    const sequenceNumber = this.#nextSequenceNumber++;
    const scheduled = incoming.scheduledAt !== undefined && incoming.scheduledAt > now;
    const message = this.#store(incoming, sequenceNumber, scheduled ? (incoming.scheduledAt as number) : now);
    if (scheduled) {
      message.state = "scheduled";
      this.#scheduleActivation(message);
    } else {
      this.#makeAvailable(message);
    }
    this.#journal?.append({ t: "put", s: this.path, m: toPersisted(message) });
    if (!scheduled) this.pump();
    return sequenceNumber;
  }

  /** Takes a dead letter, keeping its sequence number, enqueue time and delivery count. */
  acceptDeadLetter(message: IncomingMessage & Partial<StoredMessage>): void {
    const sequenceNumber = message.sequenceNumber ?? this.#nextSequenceNumber++;
    this.#nextSequenceNumber = Math.max(this.#nextSequenceNumber, sequenceNumber + 1);
    const stored = this.#store(message, sequenceNumber, message.enqueuedAt ?? Date.now());
    stored.deliveryCount = message.deliveryCount ?? 0;
    stored.expiresAt = message.expiresAt ?? stored.expiresAt;
    this.#makeAvailable(stored);
    this.#journal?.append({ t: "put", s: this.path, m: toPersisted(stored) });
    this.pump();
  }

  /** Removes scheduled messages; unknown numbers are ignored, as Service Bus does. */
  cancelScheduled(sequenceNumbers: number[]): void {
    for (const sequenceNumber of sequenceNumbers) {
      const message = this.#messages.get(sequenceNumber);
      if (message?.state !== "scheduled") continue;
      clearTimeout(this.#scheduleTimers.get(sequenceNumber));
      this.#scheduleTimers.delete(sequenceNumber);
      this.#remove(message);
    }
  }

  addConsumer(consumer: Consumer): void {
    this.#consumers.push(consumer);
    this.pump();
  }

  removeConsumer(consumer: Consumer): void {
    const index = this.#consumers.indexOf(consumer);
    if (index >= 0) this.#consumers.splice(index, 1);
  }

  /** Hands available messages to consumers with credit, round-robin. Re-entrant calls coalesce. */
  pump(): void {
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#pumpAgain = false;
        while (this.#available.size > 0) {
          const consumer = this.#nextConsumerWithCredit();
          if (!consumer) break;
          const message = this.#takeAvailable();
          if (!message) break;
          this.#deliver(consumer, message);
        }
      } while (this.#pumpAgain);
    } finally {
      this.#pumping = false;
    }
  }

  complete(token: string): void {
    this.#remove(this.#locked(token));
  }

  /** Unlocks a message for redelivery, or dead-letters it past the maximum delivery count. */
  abandon(token: string, properties?: Record<string, unknown>): void {
    const message = this.#modify(this.#locked(token), properties);
    if (properties && Object.keys(properties).length > 0) this.#changed(message, true);
    this.#release(message);
  }

  defer(token: string, properties?: Record<string, unknown>): void {
    const message = this.#modify(this.#locked(token), properties);
    this.#unlock(message);
    message.deferred = true;
    message.state = "deferred";
    this.#changed(message, properties !== undefined && Object.keys(properties).length > 0);
  }

  deadLetter(token: string, details: DeadLetterDetails): void {
    const message = this.#locked(token);
    if (this.#isDeadLetterQueue) {
      throw new AmqpError(Condition.notAllowed, "A message in a dead-letter queue cannot be dead-lettered.");
    }
    this.#moveToDeadLetters(message, details);
  }

  /** New lock expiry (ms since epoch) for a held lock. */
  renewLock(token: string, now = Date.now()): number {
    const message = this.#locked(token);
    const lock = message.lock as NonNullable<StoredMessage["lock"]>;
    lock.until = now + this.settings.lockDurationMs;
    lock.timer.refresh();
    return lock.until;
  }

  /** Messages from `fromSequenceNumber` on, encoded with their state, for `peek-message`. */
  peek(fromSequenceNumber: number, count: number): Buffer[] {
    return this.#index.from(fromSequenceNumber, count).map((sequenceNumber) => {
      const message = this.#messages.get(sequenceNumber) as StoredMessage;
      return encodeForDelivery(message, { lockedUntil: message.lock?.until });
    });
  }

  /**
   * Deferred messages by sequence number (`receive-by-sequence-number`): locked (peek-lock) or
   * removed (receive-and-delete). Any number that is not a deferred message fails the whole call.
   */
  receiveDeferred(
    sequenceNumbers: number[],
    peekLock: boolean,
  ): Array<{ payload: Buffer; lockToken?: string }> {
    const messages = sequenceNumbers.map((sequenceNumber) => {
      const message = this.#messages.get(sequenceNumber);
      if (message?.state !== "deferred") {
        throw new AmqpError(
          Condition.messageNotFound,
          `Failed to lock one or more specified messages. Either the message with sequence number ${sequenceNumber} does not exist or it is not deferred.`,
        );
      }
      return message;
    });
    return messages.map((message) => {
      if (!peekLock) {
        const payload = encodeForDelivery(message);
        message.deliveryCount += 1;
        this.#remove(message);
        return { payload };
      }
      const lock = this.#lock(message);
      const payload = encodeForDelivery(message, { lockedUntil: lock.until });
      message.deliveryCount += 1;
      this.#changed(message, false);
      return { payload, lockToken: lock.token };
    });
  }

  /** Drops every timer; the store is unusable afterwards. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#expiryTimer);
    for (const timer of this.#scheduleTimers.values()) clearTimeout(timer);
    for (const message of this.#locks.values()) clearTimeout(message.lock?.timer);
    this.#scheduleTimers.clear();
    this.#locks.clear();
    this.#consumers.length = 0;
  }

  #store(incoming: IncomingMessage, sequenceNumber: number, enqueuedAt: number): StoredMessage {
    const ttl = Math.min(incoming.ttlMs ?? Number.POSITIVE_INFINITY, this.settings.defaultTtlMs);
    const message: StoredMessage = {
      ...incoming,
      sequenceNumber,
      enqueuedAt,
      expiresAt: enqueuedAt + ttl,
      deliveryCount: 0,
      state: "available",
      deferred: false,
      lock: undefined,
    };
    this.#messages.set(sequenceNumber, message);
    this.#index.add(sequenceNumber);
    return message;
  }

  #remove(message: StoredMessage): void {
    this.#unlock(message);
    if (!this.#messages.delete(message.sequenceNumber)) return;
    this.#index.deleted();
    this.#journal?.append({ t: "del", s: this.path, n: message.sequenceNumber });
  }

  /** Records what a restart must see of a held message: delivery count, deferral, changed properties. */
  #changed(message: StoredMessage, bareChanged: boolean): void {
    if (!this.#journal) return;
    this.#journal.append({
      t: "upd",
      s: this.path,
      n: message.sequenceNumber,
      c: message.deliveryCount,
      ...(message.deferred ? { d: true as const } : {}),
      ...(bareChanged ? { b: message.bare.toString("base64") } : {}),
    });
  }

  /** Dead letters never expire, and no delivery count sends them anywhere. */
  get #isDeadLetterQueue(): boolean {
    return this.#deadLetter === undefined;
  }

  #makeAvailable(message: StoredMessage): void {
    message.state = "available";
    this.#available.push(message.sequenceNumber);
    if (!this.#isDeadLetterQueue && message.expiresAt < this.#nextExpiry)
      this.#scheduleExpirySweep(message.expiresAt);
  }

  #takeAvailable(now = Date.now()): StoredMessage | undefined {
    for (;;) {
      const sequenceNumber = this.#available.pop();
      if (sequenceNumber === undefined) return undefined;
      const message = this.#messages.get(sequenceNumber);
      if (message?.state !== "available") continue;
      if (!this.#isDeadLetterQueue && message.expiresAt <= now) {
        this.#expire(message);
        continue;
      }
      return message;
    }
  }

  #nextConsumerWithCredit(): Consumer | undefined {
    const count = this.#consumers.length;
    for (let step = 0; step < count; step++) {
      const consumer = this.#consumers[(this.#nextConsumer + step) % count] as Consumer;
      if (consumer.credit() > 0) {
        this.#nextConsumer = (this.#nextConsumer + step + 1) % count;
        return consumer;
      }
    }
    return undefined;
  }

  #deliver(consumer: Consumer, message: StoredMessage): void {
    if (consumer.presettled) {
      const payload = encodeForDelivery(message, { state: "active" });
      this.#remove(message);
      consumer.deliver(payload, randomBytes(16));
      return;
    }
    const lock = this.#lock(message);
    const payload = encodeForDelivery(message, { lockedUntil: lock.until, state: "active" });
    message.deliveryCount += 1;
    this.#changed(message, false);
    consumer.deliver(payload, lockTokenToTag(lock.token));
  }

  #lock(message: StoredMessage): NonNullable<StoredMessage["lock"]> {
    const token = randomUUID();
    const timer = setTimeout(() => this.#lockExpired(message, token), this.settings.lockDurationMs);
    timer.unref();
    message.lock = { token, until: Date.now() + this.settings.lockDurationMs, timer };
    message.state = "locked";
    this.#locks.set(token, message);
    return message.lock;
  }

  #unlock(message: StoredMessage): void {
    if (!message.lock) return;
    clearTimeout(message.lock.timer);
    this.#locks.delete(message.lock.token);
    message.lock = undefined;
  }

  #locked(token: string): StoredMessage {
    const message = this.#locks.get(token);
    if (!message?.lock || message.lock.until <= Date.now()) {
      throw new AmqpError(
        Condition.messageLockLost,
        `The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue. Reference: ${token}, entity: ${this.path}.`,
      );
    }
    return message;
  }

  #lockExpired(message: StoredMessage, token: string): void {
    if (this.#closed || message.lock?.token !== token) return;
    const lock = message.lock;
    // A renewal moved the deadline: wait for it (refresh() restarts the full duration, so this is rare).
    if (lock.until > Date.now() + 5) {
      lock.timer = setTimeout(() => this.#lockExpired(message, token), lock.until - Date.now());
      lock.timer.unref();
      return;
    }
    this.#release(message);
  }

  #release(message: StoredMessage): void {
    this.#unlock(message);
    if (message.deferred) {
      message.state = "deferred";
      return;
    }
    if (!this.#isDeadLetterQueue && message.deliveryCount >= this.settings.maxDeliveryCount) {
      this.#moveToDeadLetters(message, {
        reason: MAX_DELIVERY_COUNT_EXCEEDED,
        description: `Message could not be consumed after ${this.settings.maxDeliveryCount} delivery attempts.`,
      });
      return;
    }
    this.#makeAvailable(message);
    this.pump();
  }

  #modify(message: StoredMessage, properties: Record<string, unknown> | undefined): StoredMessage {
    if (!properties || Object.keys(properties).length === 0) return message;
    const changed = withApplicationProperties(message, properties);
    message.applicationProperties = changed.applicationProperties;
    message.bare = changed.bare;
    return message;
  }

  #moveToDeadLetters(message: StoredMessage, details: DeadLetterDetails): void {
    this.#remove(message);
    const reasons: Record<string, unknown> = { ...(details.properties ?? {}) };
    if (details.reason !== undefined) reasons.DeadLetterReason = details.reason;
    if (details.description !== undefined) reasons.DeadLetterErrorDescription = details.description;
    const { lock: _lock, ...rest } = Object.keys(reasons).length
      ? withApplicationProperties(message, reasons)
      : message;
    this.#deadLetter?.({ ...rest, state: "available", deferred: false });
  }

  #expire(message: StoredMessage): void {
    if (this.settings.deadLetterOnExpiration) {
      this.#moveToDeadLetters(message, {
        reason: TTL_EXPIRED,
        description: "The message expired and was dead lettered.",
      });
    } else {
      this.#remove(message);
    }
  }

  #scheduleExpirySweep(at: number): void {
    if (!Number.isFinite(at)) return;
    this.#nextExpiry = at;
    clearTimeout(this.#expiryTimer);
    const delay = Math.min(Math.max(at - Date.now(), EXPIRY_SWEEP_MIN_INTERVAL_MS / 10), MAX_TIMER_MS);
    this.#expiryTimer = setTimeout(() => this.#sweepExpired(), delay);
    this.#expiryTimer.unref();
  }

  /** Expires available messages past their time to live, then waits for the next one. */
  #sweepExpired(): void {
    if (this.#closed) return;
    const now = Date.now();
    let next = Number.POSITIVE_INFINITY;
    for (const message of [...this.#messages.values()]) {
      if (message.state !== "available") continue;
      if (message.expiresAt <= now) this.#expire(message);
      else if (message.expiresAt < next) next = message.expiresAt;
    }
    this.#nextExpiry = Number.POSITIVE_INFINITY;
    if (Number.isFinite(next)) this.#scheduleExpirySweep(Math.max(next, now + EXPIRY_SWEEP_MIN_INTERVAL_MS));
  }

  #scheduleActivation(message: StoredMessage): void {
    const wait = Math.min(message.enqueuedAt - Date.now(), MAX_TIMER_MS);
    const timer = setTimeout(
      () => {
        if (this.#closed || message.state !== "scheduled") return;
        if (message.enqueuedAt > Date.now()) return this.#scheduleActivation(message);
        this.#scheduleTimers.delete(message.sequenceNumber);
        this.#makeAvailable(message);
        this.pump();
      },
      Math.max(wait, 0),
    );
    timer.unref();
    this.#scheduleTimers.set(message.sequenceNumber, timer);
  }
}
