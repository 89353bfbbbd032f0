/**
 * One Service Bus namespace plugged into the shared AMQP server: entity addresses, sends (duplicate
 * detection, scheduling, forwarding, topic fan-out through subscription rules), receiver links and
 * their dispositions, and the `<entity>/$management` operations the SDK uses.
 */
import type { Message } from "rhea";
import { AmqpError, Condition } from "../amqp/errors.ts";
import { rejected } from "../amqp/rhea.ts";
import type {
  AmqpService,
  InboundHandler,
  InboundLink,
  ManagementRequest,
  ManagementResponse,
  OutboundHandler,
  OutboundLink,
} from "../amqp/server.ts";
import type {
  QueueDefinition,
  ServiceBusTopology,
  SubscriptionDefinition,
  TopicDefinition,
} from "./config.ts";
import { DuplicateDetector } from "./duplicates.ts";
import { matchesAnyRule } from "./filters.ts";
import type { Journal, JournalRecord, JournalState } from "./journal.ts";
import { manage } from "./management.ts";
import { fromAmqp, type IncomingMessage, tagToLockToken } from "./message.ts";
import { type Consumer, MessageQueue } from "./messageQueue.ts";
import {
  fromPersisted,
  fromPersistedIncoming,
  toPersisted,
  toPersistedIncoming,
} from "./persistedMessage.ts";

/** Forwarding chains longer than this are refused (Service Bus allows four hops). */
const MAX_FORWARD_HOPS = 4;

/** A store receivers read from, plus its dead-letter queue. */
export interface Receivable {
  store: MessageQueue;
  deadLetters: MessageQueue;
}

/** What an address names. */
export type Resolved =
  | { kind: "queue"; queue: QueueEntity; store: MessageQueue }
  | { kind: "topic"; topic: TopicEntity }
  | { kind: "subscription"; store: MessageQueue }
  | { kind: "deadLetters"; store: MessageQueue };

export interface EntityCounts {
  messages: number;
  deadLetters: number;
  receivers: number;
}

/** Runtime counts of one entity, as the management API's `CountDetails` carry them. */
export interface RuntimeCounts {
  kind: "queue" | "topic" | "subscription";
  active: number;
  scheduled: number;
  deadLettered: number;
  /** Everything held, dead letters included (`MessageCount`). */
  total: number;
}

export interface QueueEntity {
  definition: QueueDefinition;
  duplicates?: DuplicateDetector;
  receivable: Receivable;
}

export interface TopicEntity {
  definition: TopicDefinition;
  duplicates?: DuplicateDetector;
  subscriptions: Map<string, { definition: SubscriptionDefinition; receivable: Receivable }>;
  /** Messages scheduled on the topic, fanned out when due; keyed by the topic's sequence number. */
  scheduled: Map<number, { timer: NodeJS.Timeout; incoming: IncomingMessage }>;
  nextSequenceNumber: number;
}

export class ServiceBusNamespace implements AmqpService {
  readonly #queues = new Map<string, QueueEntity>();
  readonly #topics = new Map<string, TopicEntity>();
  /** Every message store by path, dead-letter queues included (the journal names stores by path). */
  readonly #stores = new Map<string, MessageQueue>();
  readonly #journal: Journal | undefined;

  constructor(topology: ServiceBusTopology, journal?: Journal) {
    this.#journal = journal;
    for (const definition of topology.queues) {
      this.#queues.set(definition.name.toLowerCase(), {
        definition,
        duplicates: this.#detectorFor(definition.name, definition.duplicateWindowMs),
        receivable: this.#receivable(definition.name, definition),
      });
    }
    for (const definition of topology.topics) {
      const subscriptions = new Map(
        definition.subscriptions.map((subscription) => [
          subscription.name.toLowerCase(),
          {
            definition: subscription,
            receivable: this.#receivable(
              `${definition.name}/Subscriptions/${subscription.name}`,
              subscription,
            ),
          },
        ]),
      );
      this.#topics.set(definition.name.toLowerCase(), {
        definition,
        duplicates: this.#detectorFor(definition.name, definition.duplicateWindowMs),
        subscriptions,
        scheduled: new Map(),
        nextSequenceNumber: 1,
      });
    }
  }

  owns(): boolean {
    return true;
  }

  authorize(path: string): void {
    this.resolve(path.replace(/\/\$management$/i, ""));
  }

  openInbound(link: InboundLink): InboundHandler {
    const target = this.resolve(link.address);
    if (target.kind !== "queue" && target.kind !== "topic") {
      throw new AmqpError(
        Condition.notAllowed,
        `Cannot send to '${link.address}': send to its queue or topic.`,
      );
    }
    return {
      onMessages: (messages: Message[]) => {
        for (const message of messages) this.send(link.address, fromAmqp(message));
        // With a data directory, a send is acknowledged once it is written.
        return this.#journal?.written();
      },
    };
  }

  openOutbound(link: OutboundLink): OutboundHandler {
    const source = this.resolve(link.address);
    if (source.kind === "topic") {
      throw new AmqpError(
        Condition.notAllowed,
        `Cannot receive from topic '${link.address}': receive from a subscription.`,
      );
    }
    const store = source.store;
    const consumer: Consumer = {
      presettled: link.presettled,
      credit: () => link.credit(),
      deliver: (payload, tag) => void link.send(payload, tag, 0),
    };
    store.addConsumer(consumer);
    return {
      onCredit: () => store.pump(),
      onDisposition: (delivery, state) => {
        settle(store, tagToLockToken(delivery.tag as Buffer), state as Outcome);
        // The SDK reads an error in the settled state as a failed settlement: a dead-letter
        // (a rejection carrying its reasons) is confirmed without one.
        const outcome = (state as Outcome).constructor.composite_type === "rejected" ? rejected() : state;
        // With a data directory, a settlement is confirmed once it is written.
        return this.#journal ? this.#journal.written().then(() => outcome) : outcome;
      },
      onClose: () => store.removeConsumer(consumer),
    };
  }

  manage(request: ManagementRequest): ManagementResponse | Promise<ManagementResponse> {
    const path = request.address.replace(/\/\$management$/i, "");
    const response = manage(this, path, this.resolve(path), request);
    return this.#journal ? this.#journal.written().then(() => response) : response;
  }

  /** Accepts a message sent to a queue or topic; returns its sequence number there. */
  send(entity: string, incoming: IncomingMessage, hops = 0): number {
    const target = this.resolve(entity);
    if (target.kind === "queue") {
      const { definition, duplicates } = target.queue;
      if (duplicates?.isDuplicate(incoming.system.messageId)) return 0;
      if (definition.forwardTo) return this.#forward(definition.forwardTo, incoming, hops);
      return target.store.enqueue(incoming);
    }
    if (target.kind !== "topic") {
      throw new AmqpError(Condition.notAllowed, `Cannot send to '${entity}': send to its queue or topic.`);
    }
    const topic = target.topic;
    if (topic.duplicates?.isDuplicate(incoming.system.messageId)) return 0;
    const sequenceNumber = topic.nextSequenceNumber++;
    const due = incoming.scheduledAt ?? 0;
    if (due > Date.now()) {
      this.#scheduleOnTopic(topic, sequenceNumber, incoming, hops);
      this.#journal?.append({
        t: "tput",
        s: topic.definition.name,
        n: sequenceNumber,
        m: toPersistedIncoming(incoming),
      });
    } else {
      this.#fanOut(topic, incoming, hops);
    }
    return sequenceNumber;
  }

  cancelScheduled(resolved: Resolved, sequenceNumbers: number[]): void {
    if (resolved.kind === "queue") {
      resolved.store.cancelScheduled(sequenceNumbers);
      return;
    }
    if (resolved.kind !== "topic") {
      throw new AmqpError(Condition.notAllowed, "Scheduled messages belong to queues and topics.");
    }
    for (const sequenceNumber of sequenceNumbers) {
      const scheduled = resolved.topic.scheduled.get(sequenceNumber);
      if (!scheduled) continue;
      clearTimeout(scheduled.timer);
      resolved.topic.scheduled.delete(sequenceNumber);
      this.#journal?.append({ t: "tdel", s: resolved.topic.definition.name, n: sequenceNumber });
    }
  }

  /**
   * Takes back the journal's state after a restart. Messages of entities no longer configured are
   * dropped, each store's count reported through `report`.
   */
  restore(state: JournalState, report: (problem: string) => void, now = Date.now()): void {
    // Sequence numbers first: restoring may dead-letter or fan out into stores restored later.
    for (const [path, { next }] of state.stores) this.#stores.get(path)?.restoreNextSequenceNumber(next);
    for (const [path, { messages }] of state.stores) {
      const store = this.#stores.get(path);
      if (!store) {
        if (messages.size > 0)
          report(`dropped ${messages.size} messages of '${path}', which is no longer configured`);
        continue;
      }
      for (const persisted of messages.values()) store.restore(fromPersisted(persisted), now);
    }
    for (const [name, { next, scheduled }] of state.topics) {
      const topic = this.#topics.get(name.toLowerCase());
      if (!topic) {
        if (scheduled.size > 0)
          report(
            `dropped ${scheduled.size} scheduled messages of topic '${name}', which is no longer configured`,
          );
        continue;
      }
      topic.nextSequenceNumber = Math.max(topic.nextSequenceNumber, next);
      for (const [sequenceNumber, persisted] of scheduled) {
        this.#scheduleOnTopic(topic, sequenceNumber, fromPersistedIncoming(persisted), 0);
      }
    }
    for (const [name, ids] of state.duplicates) {
      const key = name.toLowerCase();
      const detector = (this.#queues.get(key) ?? this.#topics.get(key))?.duplicates;
      for (const [id, expiry] of ids) if (expiry > now) detector?.restore(id, expiry);
    }
  }

  /** The whole state as journal records, from which a restart rebuilds it (compaction). */
  *snapshot(now = Date.now()): Generator<JournalRecord> {
    for (const [path, store] of this.#stores) {
      yield { t: "next", s: path, n: store.nextSequenceNumber };
      for (const message of store.messages()) yield { t: "put", s: path, m: toPersisted(message) };
    }
    for (const topic of this.#topics.values()) {
      const name = topic.definition.name;
      yield { t: "tnext", s: name, n: topic.nextSequenceNumber };
      for (const [n, { incoming }] of topic.scheduled) {
        yield { t: "tput", s: name, n, m: toPersistedIncoming(incoming) };
      }
    }
    for (const entity of [...this.#queues.values(), ...this.#topics.values()]) {
      for (const [id, x] of entity.duplicates?.remembered(now) ?? []) {
        yield { t: "dup", s: entity.definition.name, id, x };
      }
    }
  }

  /** `queue`, `queue/$DeadLetterQueue`, `topic`, `topic/Subscriptions/sub[/$DeadLetterQueue]`. */
  resolve(path: string): Resolved {
    const segments = path.split("/");
    const [first = "", second, third, fourth] = segments.map((segment) => segment.toLowerCase());
    const queue = this.#queues.get(first);
    if (queue && segments.length === 1) return { kind: "queue", queue, store: queue.receivable.store };
    if (queue && segments.length === 2 && second === "$deadletterqueue") {
      return { kind: "deadLetters", store: queue.receivable.deadLetters };
    }
    const topic = this.#topics.get(first);
    if (topic && segments.length === 1) return { kind: "topic", topic };
    const subscription =
      topic && second === "subscriptions" && third ? topic.subscriptions.get(third) : undefined;
    if (subscription && segments.length === 3)
      return { kind: "subscription", store: subscription.receivable.store };
    if (subscription && segments.length === 4 && fourth === "$deadletterqueue") {
      return { kind: "deadLetters", store: subscription.receivable.deadLetters };
    }
    throw new AmqpError(Condition.notFound, `The messaging entity '${path}' could not be found.`);
  }

  /** Per receivable entity: messages held (active, locked, deferred, scheduled), dead letters, receivers. */
  counts(): Record<string, EntityCounts> {
    const counts: Record<string, EntityCounts> = {};
    const add = ({ store, deadLetters }: Receivable) => {
      counts[store.path] = {
        messages: store.size,
        deadLetters: deadLetters.size,
        receivers: store.consumerCount + deadLetters.consumerCount,
      };
    };
    for (const queue of this.#queues.values()) add(queue.receivable);
    for (const topic of this.#topics.values()) {
      for (const subscription of topic.subscriptions.values()) add(subscription.receivable);
    }
    return counts;
  }

  /**
   * What the management API reports for a queue, topic or subscription (`ActiveMessageCount`
   * counts locked messages too, as Azure does); undefined for any other path.
   */
  runtimeCounts(path: string): RuntimeCounts | undefined {
    let resolved: Resolved;
    try {
      resolved = this.resolve(path);
    } catch {
      return undefined;
    }
    if (resolved.kind === "topic") {
      return {
        kind: "topic",
        active: 0,
        scheduled: resolved.topic.scheduled.size,
        deadLettered: 0,
        total: 0,
      };
    }
    if (resolved.kind === "deadLetters") return undefined;
    const { available, locked, scheduled } = resolved.store.countByState();
    const deadLetters = (this.resolve(`${path}/$DeadLetterQueue`) as { store: MessageQueue }).store.size;
    return {
      kind: resolved.kind,
      active: available + locked,
      scheduled,
      deadLettered: deadLetters,
      total: resolved.store.size + deadLetters,
    };
  }

  close(): void {
    for (const queue of this.#queues.values()) closeReceivable(queue.receivable);
    for (const topic of this.#topics.values()) {
      for (const { timer } of topic.scheduled.values()) clearTimeout(timer);
      for (const subscription of topic.subscriptions.values()) closeReceivable(subscription.receivable);
    }
  }

  #scheduleOnTopic(
    topic: TopicEntity,
    sequenceNumber: number,
    incoming: IncomingMessage,
    hops: number,
  ): void {
    const due = incoming.scheduledAt ?? 0;
    const timer = setTimeout(
      () => {
        topic.scheduled.delete(sequenceNumber);
        this.#journal?.append({ t: "tdel", s: topic.definition.name, n: sequenceNumber });
        this.#fanOut(topic, incoming, hops);
      },
      Math.min(Math.max(due - Date.now(), 0), 2 ** 31 - 1),
    );
    timer.unref();
    topic.scheduled.set(sequenceNumber, { timer, incoming });
  }

  #detectorFor(entity: string, windowMs: number | undefined): DuplicateDetector | undefined {
    if (windowMs === undefined) return undefined;
    const journal = this.#journal;
    return new DuplicateDetector(
      windowMs,
      journal && ((id, x) => journal.append({ t: "dup", s: entity, id, x })),
    );
  }

  #fanOut(topic: TopicEntity, incoming: IncomingMessage, hops: number): void {
    for (const { definition, receivable } of topic.subscriptions.values()) {
      if (!matchesAnyRule(definition.rules, incoming)) continue;
      const copy = { ...incoming, scheduledAt: undefined };
      if (definition.forwardTo) this.#forward(definition.forwardTo, copy, hops);
      else receivable.store.enqueue(copy);
    }
  }

  #forward(target: string, incoming: IncomingMessage, hops: number): number {
    if (hops >= MAX_FORWARD_HOPS) {
      throw new AmqpError(
        Condition.notAllowed,
        `Forwarding to '${target}' exceeds ${MAX_FORWARD_HOPS} hops.`,
      );
    }
    return this.send(target, incoming, hops + 1);
  }

  #receivable(path: string, settings: QueueDefinition | SubscriptionDefinition): Receivable {
    const deadLetters = new MessageQueue(`${path}/$DeadLetterQueue`, settings, undefined, this.#journal);
    const forwardDeadLetters = settings.forwardDeadLetteredTo;
    const store = new MessageQueue(
      path,
      settings,
      (message) => {
        if (forwardDeadLetters) this.send(forwardDeadLetters, { ...message, scheduledAt: undefined });
        else deadLetters.acceptDeadLetter(message);
      },
      this.#journal,
    );
    this.#stores.set(store.path, store);
    this.#stores.set(deadLetters.path, deadLetters);
    return { store, deadLetters };
  }
}

function closeReceivable(receivable: Receivable): void {
  receivable.store.close();
  receivable.deadLetters.close();
}

/** rhea's view of a disposition outcome. */
type Outcome = {
  constructor: { composite_type?: string };
  undeliverable_here?: boolean;
  message_annotations?: Record<string, unknown>;
  error?: { condition?: string; description?: string; info?: Record<string, unknown> };
};

/** A receiver's disposition: complete, abandon, defer or dead-letter (AMQP outcomes, §D). */
function settle(store: MessageQueue, token: string, outcome: Outcome): void {
  const kind = outcome.constructor.composite_type;
  if (kind === "accepted") store.complete(token);
  else if (kind === "modified" && outcome.undeliverable_here) store.defer(token, outcome.message_annotations);
  else if (kind === "rejected") {
    const { DeadLetterReason, DeadLetterErrorDescription, ...properties } = outcome.error?.info ?? {};
    // The SDK's dead-letter carries its reasons in the info; any other rejection is its own reason.
    const other = outcome.error?.condition === Condition.deadLetter ? undefined : outcome.error;
    store.deadLetter(token, {
      reason: stringOrUndefined(DeadLetterReason) ?? other?.condition,
      description: stringOrUndefined(DeadLetterErrorDescription) ?? other?.description,
      properties,
    });
  } else store.abandon(token, outcome.message_annotations); // modified (abandon) or released
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}
