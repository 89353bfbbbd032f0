import rhea from "rhea";
import { describe, expect, it } from "vitest";
import { readEvent, stampEvent, withLastEnqueuedEvent } from "../../../src/eventhubs/eventWire.ts";

const { types } = rhea;
const stamp = { sequenceNumber: 7, offset: 1234, enqueuedTimeMs: 1_700_000_000_000 };

describe("events on the wire", () => {
  const produced = rhea.message.encode({
    message_id: "m-1",
    content_type: "application/json",
    message_annotations: {
      "x-opt-partition-key": "tenant-a",
      custom: types.wrap_ulong(5),
      "x-opt-offset": "forged",
    },
    application_properties: { count: 1, ratio: 1.5, flag: true },
    body: rhea.message.data_section(Buffer.from('{"hello":"world"}')),
  });

  it("reads the partition key and keeps the producer's sections after the annotations byte for byte", () => {
    const event = readEvent(produced);
    expect(event.partitionKey).toBe("tenant-a");
    expect(event.size).toBe(produced.length);
    expect(produced.subarray(produced.length - event.rest.length).equals(event.rest)).toBe(true);
  });

  it("stamps sequence number (long), offset (string), enqueued time and partition key, replacing forged ones", () => {
    const stored = stampEvent(readEvent(produced), stamp, "tenant-a");
    const message = rhea.message.decode(stored.bytes);
    expect(message.message_annotations).toEqual({
      custom: 5,
      "x-opt-sequence-number": 7,
      "x-opt-offset": "1234",
      "x-opt-enqueued-time": new Date(1_700_000_000_000),
      "x-opt-partition-key": "tenant-a",
    });
    expect(message.application_properties).toEqual({ count: 1, ratio: 1.5, flag: true });
    expect(message.message_id).toBe("m-1");
    expect((message.body as { content: Buffer }).content.toString()).toBe('{"hello":"world"}');
  });

  it("adds the last-enqueued-event delivery annotations without disturbing the event", () => {
    const stored = stampEvent(readEvent(produced), stamp, undefined);
    const info = {
      beginSequenceNumber: 0,
      lastSequenceNumber: 9,
      lastOffset: "5000",
      lastEnqueuedTimeMs: 1_700_000_000_500,
      isEmpty: false,
    };
    const message = rhea.message.decode(withLastEnqueuedEvent(stored, info, 1_700_000_001_000));
    expect(message.delivery_annotations).toEqual({
      last_enqueued_sequence_number: 9,
      last_enqueued_offset: "5000",
      last_enqueued_time_utc: new Date(1_700_000_000_500),
      runtime_info_retrieval_time_utc: new Date(1_700_000_001_000),
    });
    expect(message.message_annotations?.["x-opt-sequence-number"]).toBe(7);
  });

  it("throws on bytes that are not an AMQP message, or whose annotations are cut short", () => {
    expect(() => readEvent(Buffer.from("plain text, not AMQP"))).toThrow(/not an AMQP message/);
    expect(() => readEvent(Buffer.from([0x00, 0x53, 0x10, 0x40]))).toThrow(/not an AMQP message/);
    const annotated = rhea.message.encode({ message_annotations: { key: "value" }, body: "x" });
    expect(() => readEvent(annotated.subarray(0, 12))).toThrow();
  });
});
