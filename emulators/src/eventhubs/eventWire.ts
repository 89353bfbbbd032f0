/**
 * Events on the wire. An event is kept as the bytes its producer encoded, with only the
 * message-annotations section rewritten to carry what the partition assigned
 * (`x-opt-sequence-number`, `x-opt-offset`, `x-opt-enqueued-time`, `x-opt-partition-key`); properties,
 * application properties and body pass through byte for byte, so every body type and property type
 * round-trips exactly. Delivery annotations with the partition's last-enqueued-event properties are
 * spliced in per delivery for receivers that ask for them.
 */
import rhea, { type Typed } from "rhea";
import type { EventStamp, PartitionRuntimeInfo } from "./partitionLog.ts";

const { types } = rhea;

// rhea's codec pieces used here exist at run time but are missing from its typings.
interface Codec {
  Reader: new (buffer: Buffer) => { position: number; read(): Typed; remaining(): number };
  Writer: new () => { write(value: Typed): void; toBuffer(): Buffer };
  Map32(items: Typed[]): Typed;
}
const codec = types as unknown as Codec;

const HEADER = 0x70;
const DELIVERY_ANNOTATIONS = 0x71;
const MESSAGE_ANNOTATIONS = 0x72;
const FOOTER = 0x78;
const SYMBOLIC: Record<string, number> = {
  "amqp:header:list": HEADER,
  "amqp:delivery-annotations:map": DELIVERY_ANNOTATIONS,
  "amqp:message-annotations:map": MESSAGE_ANNOTATIONS,
  "amqp:properties:list": 0x73,
  "amqp:application-properties:map": 0x74,
  "amqp:data:binary": 0x75,
  "amqp:amqp-sequence:list": 0x76,
  "amqp:value:*": 0x77,
  "amqp:footer:map": FOOTER,
};

const PARTITION_KEY = "x-opt-partition-key";
const SEQUENCE_NUMBER = "x-opt-sequence-number";
const OFFSET = "x-opt-offset";
const ENQUEUED_TIME = "x-opt-enqueued-time";
const ASSIGNED = new Set([SEQUENCE_NUMBER, OFFSET, ENQUEUED_TIME, PARTITION_KEY]);

/** A received event split around its annotations. */
export interface ReceivedEvent {
  /** The encoded size as received. */
  size: number;
  partitionKey: string | undefined;
  header: Buffer;
  /** The producer's message annotations as key/value pairs, types kept. */
  annotations: Array<[Typed, Typed]>;
  /** Everything after the annotations: properties, application properties, body, footer. */
  rest: Buffer;
}

/** A stored event: ready-to-send bytes and where delivery annotations would go (after the header). */
export interface WireEvent {
  bytes: Buffer;
  deliveryAnnotationsAt: number;
}

function sectionCode(section: Typed): number | undefined {
  const descriptor = (section as { descriptor?: Typed }).descriptor?.value;
  return typeof descriptor === "number" ? descriptor : SYMBOLIC[String(descriptor)];
}

/**
 * Splits an encoded AMQP message. Throws when the bytes do not start like one (a described message
 * section) or a leading section is truncated; the body is not parsed.
 */
export function readEvent(bytes: Buffer): ReceivedEvent {
  const reader = new codec.Reader(bytes);
  let header: Buffer = Buffer.alloc(0);
  const annotations: Array<[Typed, Typed]> = [];
  let partitionKey: string | undefined;
  while (reader.remaining() > 0) {
    const start = reader.position;
    const section = reader.read();
    const code = sectionCode(section);
    if (code === undefined || code < HEADER || code > FOOTER || reader.remaining() < 0) {
      throw new TypeError(`not an AMQP message: unexpected data at byte ${start}`);
    }
    if (code === HEADER) header = bytes.subarray(start, reader.position);
    else if (code === MESSAGE_ANNOTATIONS) {
      const items = section.value as Typed[];
      for (let index = 0; index + 1 < items.length; index += 2) {
        const key = items[index] as Typed;
        const value = items[index + 1] as Typed;
        if (key.value === PARTITION_KEY && typeof value.value === "string") partitionKey = value.value;
        annotations.push([key, value]);
      }
    } else if (code !== DELIVERY_ANNOTATIONS) {
      // The producer's delivery annotations are for the hop to us; the rest passes through untouched.
      return { size: bytes.length, partitionKey, header, annotations, rest: bytes.subarray(start) };
    }
  }
  return { size: bytes.length, partitionKey, header, annotations, rest: Buffer.alloc(0) };
}

/** The stored form of a received event once its partition has stamped it. */
export function stampEvent(
  event: ReceivedEvent,
  stamp: EventStamp,
  partitionKey: string | undefined,
): WireEvent {
  const pairs: Typed[] = [];
  for (const [key, value] of event.annotations) {
    if (!ASSIGNED.has(String(key.value))) pairs.push(key, value);
  }
  pairs.push(types.wrap_symbol(SEQUENCE_NUMBER), types.wrap_long(stamp.sequenceNumber));
  pairs.push(types.wrap_symbol(OFFSET), types.wrap_string(String(stamp.offset)));
  pairs.push(types.wrap_symbol(ENQUEUED_TIME), types.wrap_timestamp(stamp.enqueuedTimeMs));
  if (partitionKey !== undefined)
    pairs.push(types.wrap_symbol(PARTITION_KEY), types.wrap_string(partitionKey));
  const writer = new codec.Writer();
  writer.write(types.described_nc(types.wrap_ulong(MESSAGE_ANNOTATIONS), codec.Map32(pairs)));
  const annotations = writer.toBuffer();
  return {
    bytes: Buffer.concat([event.header, annotations, event.rest]),
    deliveryAnnotationsAt: event.header.length,
  };
}

/** The event's bytes with the partition's last-enqueued-event properties as delivery annotations. */
export function withLastEnqueuedEvent(event: WireEvent, info: PartitionRuntimeInfo, nowMs: number): Buffer {
  const writer = new codec.Writer();
  writer.write(
    types.described_nc(
      types.wrap_ulong(DELIVERY_ANNOTATIONS),
      types.wrap_symbolic_map({
        last_enqueued_sequence_number: types.wrap_long(info.lastSequenceNumber),
        last_enqueued_offset: info.lastOffset,
        last_enqueued_time_utc: types.wrap_timestamp(info.lastEnqueuedTimeMs),
        runtime_info_retrieval_time_utc: types.wrap_timestamp(nowMs),
      }),
    ),
  );
  return Buffer.concat([
    event.bytes.subarray(0, event.deliveryAnnotationsAt),
    writer.toBuffer(),
    event.bytes.subarray(event.deliveryAnnotationsAt),
  ]);
}
