/**
 * The broker's state without the wire: hubs with their partition logs and, per consumer group and
 * partition, the connected receivers. Also the link addresses the SDK uses:
 * senders `<hub>` or `<hub>/Partitions/<id>`, receivers `<hub>/ConsumerGroups/<cg>/Partitions/<id>`.
 * Hub and consumer group names are case-insensitive, as in Event Hubs.
 */

import { AmqpError, Condition } from "../amqp/errors.ts";
import type { EventHubDefinition, EventHubsTopology } from "./config.ts";
import { PartitionReceivers } from "./ownership.ts";
import { partitionIndexForKey } from "./partitionKey.ts";
import { DEFAULT_RETENTION, PartitionLog, type RetentionPolicy } from "./partitionLog.ts";

export interface SenderAddress {
  hub: string;
  partitionId?: string;
}

export interface ReceiverAddress {
  hub: string;
  consumerGroup: string;
  partitionId: string;
}

export function parseSenderAddress(address: string): SenderAddress {
  const parts = address.split("/");
  if (parts.length === 1 && parts[0]) return { hub: parts[0] };
  if (parts.length === 3 && parts[0] && parts[1]?.toLowerCase() === "partitions" && parts[2]) {
    return { hub: parts[0], partitionId: parts[2] };
  }
  throw notFound(address);
}

export function parseReceiverAddress(address: string): ReceiverAddress {
  const parts = address.split("/");
  const [hub, groups, consumerGroup, partitions, partitionId] = parts;
  if (
    parts.length === 5 &&
    hub &&
    groups?.toLowerCase() === "consumergroups" &&
    consumerGroup &&
    partitions?.toLowerCase() === "partitions" &&
    partitionId
  ) {
    return { hub, consumerGroup, partitionId };
  }
  throw notFound(address);
}

function notFound(entity: string): AmqpError {
  return new AmqpError(Condition.notFound, `The messaging entity '${entity}' could not be found.`);
}

export class EventHub<T, R> {
  readonly definition: EventHubDefinition;
  readonly createdAt: Date;
  readonly #logs: PartitionLog<T>[];
  readonly #receivers = new Map<string, PartitionReceivers<R>[]>();
  #roundRobin = 0;

  constructor(definition: EventHubDefinition, retention: RetentionPolicy, clock: () => number) {
    this.definition = definition;
    this.createdAt = new Date(clock());
    this.#logs = definition.partitionIds.map(() => new PartitionLog<T>(retention, clock));
    for (const group of definition.consumerGroups) {
      this.#receivers.set(
        group.toLowerCase(),
        definition.partitionIds.map(() => new PartitionReceivers<R>()),
      );
    }
  }

  get name(): string {
    return this.definition.name;
  }

  /** The partition's log, or `com.microsoft:argument-out-of-range` for an id the hub does not have. */
  partition(partitionId: string): PartitionLog<T> {
    const index = this.#partitionIndex(partitionId);
    return this.#logs[index] as PartitionLog<T>;
  }

  /** Receivers of one consumer group on one partition; `amqp:not-found` for an unknown group. */
  receivers(consumerGroup: string, partitionId: string): PartitionReceivers<R> {
    const group = this.#receivers.get(consumerGroup.toLowerCase());
    if (!group) throw notFound(`${this.name}/ConsumerGroups/${consumerGroup}`);
    return group[this.#partitionIndex(partitionId)] as PartitionReceivers<R>;
  }

  /** The partition a send goes to: the one named, the key's hash, or the next in turn. */
  choosePartition(partitionId: string | undefined, partitionKey: string | undefined): string {
    const count = this.definition.partitionIds.length;
    if (partitionId !== undefined) return String(this.#partitionIndex(partitionId));
    if (partitionKey !== undefined) return String(partitionIndexForKey(partitionKey, count));
    const index = this.#roundRobin % count;
    this.#roundRobin = (this.#roundRobin + 1) % count;
    return String(index);
  }

  #partitionIndex(partitionId: string): number {
    const index = this.definition.partitionIds.indexOf(partitionId);
    if (index < 0) {
      throw new AmqpError(
        Condition.argumentOutOfRange,
        `The specified partition '${partitionId}' is invalid for event hub '${this.name}'. It should be between 0 and ${this.definition.partitionIds.length - 1}.`,
      );
    }
    return index;
  }
}

export interface NamespaceOptions {
  retention?: Partial<RetentionPolicy>;
  clock?: () => number;
}

export class EventHubsNamespace<T, R> {
  readonly name: string;
  readonly #hubs = new Map<string, EventHub<T, R>>();

  constructor(topology: EventHubsTopology, options: NamespaceOptions = {}) {
    this.name = topology.namespace;
    const retention = { ...DEFAULT_RETENTION, ...options.retention };
    for (const definition of topology.hubs) {
      this.#hubs.set(
        definition.name.toLowerCase(),
        new EventHub(definition, retention, options.clock ?? Date.now),
      );
    }
  }

  /** The hub, or `amqp:not-found`. */
  hub(name: string): EventHub<T, R> {
    const hub = this.#hubs.get(name.toLowerCase());
    if (!hub) throw notFound(name);
    return hub;
  }
}
