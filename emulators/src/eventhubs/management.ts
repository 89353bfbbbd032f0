/**
 * Event Hubs' `$management` READ operation: hub properties (`type: com.microsoft:eventhub`) and
 * partition properties (`type: com.microsoft:partition`, `partition: "<id>"`). Bodies are AMQP maps
 * typed the way the service types them (int counts, long sequence numbers, timestamps, a string array
 * of partition ids), which is what `getEventHubProperties` / `getPartitionProperties` read.
 */
import rhea from "rhea";
import { AmqpError, Condition } from "../amqp/errors.ts";
import type { EventHub, EventHubsNamespace } from "./namespace.ts";
import type { PartitionRuntimeInfo } from "./partitionLog.ts";

const { types } = rhea;
const STRING_ARRAY = 0xa1;

const READ_OPERATION = "READ";
const EVENTHUB_TYPE = "com.microsoft:eventhub";
const PARTITION_TYPE = "com.microsoft:partition";

function eventHubPropertiesBody<T, R>(hub: EventHub<T, R>): Record<string, unknown> {
  return {
    name: hub.name,
    created_at: hub.createdAt,
    partition_count: types.wrap_int(hub.definition.partitionIds.length),
    partition_ids: types.wrap_array([...hub.definition.partitionIds], STRING_ARRAY, undefined),
  };
}

function partitionPropertiesBody(
  hubName: string,
  partitionId: string,
  info: PartitionRuntimeInfo,
): Record<string, unknown> {
  return {
    name: hubName,
    partition: partitionId,
    begin_sequence_number: types.wrap_long(info.beginSequenceNumber),
    last_enqueued_sequence_number: types.wrap_long(info.lastSequenceNumber),
    last_enqueued_offset: info.lastOffset,
    last_enqueued_time_utc: new Date(info.lastEnqueuedTimeMs),
    is_partition_empty: info.isEmpty,
  };
}

/**
 * Answers a `$management` request from its application properties; throws {@link AmqpError}
 * for an unknown operation, entity type, hub or partition.
 */
export function answerManagementRequest<T, R>(
  namespace: EventHubsNamespace<T, R>,
  properties: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const { operation, type, name, partition } = properties;
  if (operation !== READ_OPERATION) {
    throw new AmqpError(
      Condition.notImplemented,
      `The management operation '${String(operation)}' is not supported.`,
    );
  }
  if (typeof name !== "string" || name === "") {
    throw new AmqpError(Condition.argumentError, "The management request has no entity 'name'.");
  }
  const hub = namespace.hub(name);
  if (type === EVENTHUB_TYPE) return eventHubPropertiesBody(hub);
  if (type === PARTITION_TYPE) {
    const partitionId =
      typeof partition === "string" || typeof partition === "number" ? String(partition) : "";
    return partitionPropertiesBody(hub.name, partitionId, hub.partition(partitionId).runtimeInfo());
  }
  throw new AmqpError(
    Condition.argumentError,
    `The management entity type '${String(type)}' is not supported.`,
  );
}
