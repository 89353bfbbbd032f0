/**
 * Message codecs and typed values shared by the emulators. rhea infers AMQP types from JS values
 * (a positive integer becomes `uint`, an array a `list`), which is not what the Azure SDKs expect for
 * sequence numbers, lock tokens or timestamps, hence these explicit wrappers.
 */
import rhea, { type Message, type Typed } from "rhea";
import { AmqpError, Condition } from "./errors.ts";

/** Message format of a batched transfer: the body is one `data` section per encoded message. */
export const BATCH_MESSAGE_FORMAT = 0x80013700;

/**
 * The messages carried by one transfer. rhea hands a non-zero format over undecoded (a Buffer);
 * a batch envelope holds every message, fully encoded, in its data sections.
 */
export function decodeTransfer(payload: Message | Buffer, format: number | undefined): Message[] {
  if (!format) return [payload as Message];
  if (format !== BATCH_MESSAGE_FORMAT || !Buffer.isBuffer(payload)) {
    throw new AmqpError(Condition.notImplemented, `Message format ${format} is not supported.`);
  }
  try {
    return batchSections(payload).map((section) => rhea.message.decode(section) as unknown as Message);
  } catch (error) {
    throw new AmqpError(Condition.decodeError, `Undecodable batch: ${(error as Error).message}`);
  }
}

/**
 * The messages carried by one transfer, each as its encoded bytes: a batch's data sections as
 * received, a single (format 0) message re-encoded from what rhea decoded.
 */
export function encodedTransfer(payload: Message | Buffer, format: number | undefined): Buffer[] {
  if (!format) return [Buffer.isBuffer(payload) ? payload : rhea.message.encode(payload)];
  if (format !== BATCH_MESSAGE_FORMAT || !Buffer.isBuffer(payload)) {
    throw new AmqpError(Condition.notImplemented, `Message format ${format} is not supported.`);
  }
  try {
    return batchSections(payload);
  } catch (error) {
    throw new AmqpError(Condition.decodeError, `Undecodable batch: ${(error as Error).message}`);
  }
}

function batchSections(payload: Buffer): Buffer[] {
  const envelope = rhea.message.decode(payload);
  const body = envelope.body as { typecode?: number; content?: Buffer | Buffer[]; multiple?: boolean };
  if (body?.typecode !== 0x75 || body.content === undefined) {
    throw new Error("the batch envelope has no data sections");
  }
  return body.multiple ? (body.content as Buffer[]) : [body.content as Buffer];
}

/** AMQP `long` (sequence numbers, counts the SDKs read as Long). */
export function long(value: number): Typed {
  return rhea.types.wrap_long(value);
}

/** AMQP `int` (status codes, message states). */
export function int(value: number): Typed {
  return rhea.types.wrap_int(value);
}

/** AMQP `timestamp` (milliseconds since the epoch). */
export function timestamp(value: Date | number): Typed {
  return rhea.types.wrap_timestamp(typeof value === "number" ? value : value.getTime());
}

/** AMQP `uuid` from its 16 bytes. */
export function uuid(bytes: Buffer): Typed {
  return rhea.types.wrap_uuid(bytes);
}

/** AMQP `array` of longs (typecode 0x81), e.g. `sequence-numbers`. */
export function longArray(values: number[]): Typed {
  return rhea.types.wrap_array(values, 0x81, undefined);
}

/** AMQP `array` of timestamps (typecode 0x83), e.g. renew-lock `expirations`. */
export function timestampArray(values: number[]): Typed {
  return rhea.types.wrap_array(values, 0x83, undefined);
}

/** A received integer that may be a JS number, a Long's 8 bytes, or absent. */
export function readLong(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  if (Buffer.isBuffer(value) && value.length === 8) return Number(value.readBigInt64BE(0));
  return undefined;
}

/** A received uuid (16 bytes) or uuid string, as the canonical lower-case string. */
export function readUuid(value: unknown): string | undefined {
  if (typeof value === "string") return value.toLowerCase();
  if (Buffer.isBuffer(value) && value.length === 16) return rhea.uuid_to_string(value);
  return undefined;
}

/** Encode a message for a management body (peek, receive-by-sequence-number, schedule). */
export function encodeMessage(message: Message): Buffer {
  return rhea.message.encode(message);
}

export function decodeMessage(bytes: Buffer): Message {
  return rhea.message.decode(bytes) as unknown as Message;
}
