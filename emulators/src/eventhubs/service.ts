/**
 * Event Hubs on the shared AMQP server: what the official SDK's producer, consumer and management
 * client expect of the service, over the namespace state in `namespace.ts`.
 *
 * - CBS: any token for a configured hub is accepted (audiences of unknown hubs: `amqp:not-found`).
 * - `$management` READ of hub and partition properties.
 * - Producers attach to `<hub>` or `<hub>/Partitions/<id>` and send batches; each batch lands on
 *   one partition (the named one, its partition key's hash, or the next in turn).
 * - Consumers attach to `<hub>/ConsumerGroups/<cg>/Partitions/<id>` with a selector filter for the
 *   start position, an optional owner level and optionally the runtime-metric capability; they are
 *   sent events as credit allows, straight from the partition log.
 */
import type { Typed } from "rhea";
import { readLong } from "../amqp/codec.ts";
import { AmqpError, Condition, toAmqpError } from "../amqp/errors.ts";
import type {
  AmqpService,
  InboundHandler,
  InboundLink,
  ManagementRequest,
  ManagementResponse,
  OutboundHandler,
  OutboundLink,
} from "../amqp/server.ts";
import { parseSelectorFilter, SELECTOR_FILTER_NAME } from "./eventPosition.ts";
import { readEvent, stampEvent, type WireEvent, withLastEnqueuedEvent } from "./eventWire.ts";
import { answerManagementRequest } from "./management.ts";
import { type EventHubsNamespace, parseReceiverAddress, parseSenderAddress } from "./namespace.ts";

export type EventHubsState = EventHubsNamespace<WireEvent, OutboundLink>;

const EPOCH_PROPERTY = "com.microsoft:epoch";
const RUNTIME_METRIC_CAPABILITY = "com.microsoft:enable-receiver-runtime-metric";
const IDEMPOTENT_PRODUCER_CAPABILITY = "com.microsoft:idempotent-producer";

export interface EventHubsServiceOptions {
  /** The largest batch a producer may send, in bytes (what the server advertises). */
  maxMessageSize: number;
  clock?: () => number;
}

export function eventHubsService(state: EventHubsState, options: EventHubsServiceOptions): AmqpService {
  const clock = options.clock ?? Date.now;
  const hubOf = (path: string) => state.hub(path.split("/")[0] ?? "");
  return {
    owns: (path) => {
      if (path === "$management") return true;
      try {
        hubOf(path);
        return true;
      } catch {
        return false;
      }
    },
    authorize: (path) => void hubOf(path),
    manage: (request: ManagementRequest): ManagementResponse => ({
      body: answerManagementRequest(state, request.properties),
    }),
    openInbound: (link) => openProducer(state, link, options.maxMessageSize),
    openOutbound: (link) => openConsumer(state, link, clock),
  };
}

function capabilities(attach: Readonly<Record<string, unknown>>): string[] {
  const desired = attach.desired_capabilities;
  if (desired === undefined || desired === null) return [];
  return (Array.isArray(desired) ? desired : [desired]).map(String);
}

function openProducer(state: EventHubsState, link: InboundLink, maxMessageSize: number): InboundHandler {
  const address = parseSenderAddress(link.address);
  const hub = state.hub(address.hub);
  if (address.partitionId !== undefined) hub.partition(address.partitionId);
  if (capabilities(link.attach).includes(IDEMPOTENT_PRODUCER_CAPABILITY)) {
    throw new AmqpError(Condition.notImplemented, "Idempotent publishing is not supported by this emulator.");
  }
  return {
    onEncodedMessages: (encoded) => {
      const size = encoded.reduce((total, bytes) => total + bytes.length, 0);
      if (size > maxMessageSize) {
        throw new AmqpError(
          Condition.messageSizeExceeded,
          `The received message (delivery-id:0, size:${size} bytes) exceeds the limit (${maxMessageSize} bytes) currently allowed on the link.`,
        );
      }
      let events: ReturnType<typeof readEvent>[];
      try {
        events = encoded.map(readEvent);
      } catch (error) {
        throw new AmqpError(Condition.decodeError, `Undecodable event: ${(error as Error).message}`);
      }
      if (events.length === 0) return;
      // The SDK gives every event of a batch the same partition key.
      const partitionKey = events[0]?.partitionKey;
      const partitionId = hub.choosePartition(address.partitionId, partitionKey);
      hub.partition(partitionId).append(
        events.map((event) => ({
          size: event.size,
          toPayload: (stamp) => stampEvent(event, stamp, partitionKey),
        })),
      );
    },
  };
}

/** The selector filter's expression: rhea hands described values over as `{ descriptor, value }`. */
function selectorExpression(attach: Readonly<Record<string, unknown>>): string | undefined {
  const source = attach.source as { filter?: Record<string, unknown> } | undefined;
  const filter = source?.filter?.[SELECTOR_FILTER_NAME] as Typed | string | undefined;
  if (filter === undefined || filter === null) return undefined;
  if (typeof filter === "string") return filter;
  return typeof filter.value === "string" ? filter.value : String(filter.value);
}

function openConsumer(state: EventHubsState, link: OutboundLink, clock: () => number): OutboundHandler {
  const address = parseReceiverAddress(link.address);
  const hub = state.hub(address.hub);
  const log = hub.partition(address.partitionId);
  const receivers = hub.receivers(address.consumerGroup, address.partitionId);
  const position = parseSelectorFilter(selectorExpression(link.attach));
  const properties = (link.attach.properties ?? {}) as Record<string, unknown>;
  const ownerLevel = readLong(properties[EPOCH_PROPERTY]);
  const runtimeMetric = capabilities(link.attach).includes(RUNTIME_METRIC_CAPABILITY);

  const stolen = receivers.claim(link, link.name, ownerLevel);
  for (const loser of stolen) loser.receiver.close(loser.error);
  if (runtimeMetric) link.respond({ offeredCapabilities: [RUNTIME_METRIC_CAPABILITY] });

  let next = log.startingSequenceNumber(position);
  let tag = 0;
  const deliver = () => {
    let credit = link.credit();
    while (credit > 0) {
      const events = log.read(next, credit);
      if (events.length === 0) return;
      const info = runtimeMetric ? log.runtimeInfo() : undefined;
      for (const event of events) {
        const bytes = info ? withLastEnqueuedEvent(event.payload, info, clock()) : event.payload.bytes;
        const deliveryTag = Buffer.alloc(8);
        deliveryTag.writeUInt32BE(tag++ >>> 0, 4);
        link.send(bytes, deliveryTag, 0);
        next = event.sequenceNumber + 1;
      }
      credit = link.credit();
    }
  };
  // Runs inside producers' sends too (on append): a failing consumer link must not fail the send.
  const pump = () => {
    try {
      deliver();
    } catch (error) {
      link.close(toAmqpError(error));
    }
  };
  const unsubscribe = log.onAppend(pump);
  return {
    onCredit: pump,
    onClose: () => {
      unsubscribe();
      receivers.release(link);
    },
  };
}
