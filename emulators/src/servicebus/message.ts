/**
 * A message as the broker keeps it, and its wire forms. The client's bare message (properties,
 * application properties, body) is encoded once on arrival and shared by every copy (topic fan-out,
 * redeliveries); only the header and annotations are encoded per delivery.
 */
import { randomUUID } from "node:crypto";
import rhea, { type Message } from "rhea";
import { decodeMessage, encodeMessage, int, long, timestamp } from "../amqp/codec.ts";
import { AmqpError, Condition } from "../amqp/errors.ts";

/** Where a message is in its entity. Numbers are the `x-opt-message-state` values. */
export const MessageState = { active: 0, deferred: 1, scheduled: 2 } as const;

/** The parts of a sent message that filters and duplicate detection read. */
export interface SystemProperties {
  messageId?: string;
  correlationId?: string;
  contentType?: string;
  subject?: string;
  to?: string;
  replyTo?: string;
  replyToSessionId?: string;
  sessionId?: string;
}

/** What a sender handed over, before an entity stores it. */
export interface IncomingMessage {
  system: SystemProperties;
  applicationProperties: Readonly<Record<string, unknown>>;
  /** Client annotations kept on every delivery (partition key, scheduled enqueue time, ...). */
  annotations: Record<string, unknown>;
  durable?: boolean;
  priority?: number;
  /** Time to live the sender asked for, in ms. */
  ttlMs?: number;
  /** Scheduled enqueue time (ms since epoch), when the sender set one. */
  scheduledAt?: number;
  /** Encoded properties, application properties, body and footer. */
  bare: Buffer;
}

export interface StoredMessage extends IncomingMessage {
  sequenceNumber: number;
  enqueuedAt: number;
  /** ms since epoch; Infinity when the message never expires. */
  expiresAt: number;
  /** Deliveries so far; sent as the header's delivery_count (0 on the first delivery). */
  deliveryCount: number;
  state: "available" | "locked" | "deferred" | "scheduled";
  /** Set once deferred: a deferred message returns to deferred, never to the queue. */
  deferred: boolean;
  lock?: MessageLock;
}

export interface MessageLock {
  token: string;
  until: number;
  timer: NodeJS.Timeout;
}

const SCHEDULED_ENQUEUE_TIME = "x-opt-scheduled-enqueue-time";
/** Annotations the broker owns: a client's copy is dropped so the broker's value is the only one. */
const BROKER_ANNOTATIONS = new Set([
  "x-opt-sequence-number",
  "x-opt-enqueued-time",
  "x-opt-locked-until",
  "x-opt-message-state",
  "x-opt-enqueue-sequence-number",
]);
/** A header ttl is a uint of milliseconds; longer lives are sent without one. */
const MAX_HEADER_TTL_MS = 0xffffffff;
/** rhea always writes a header first; an empty one is these four bytes. */
const EMPTY_HEADER = Buffer.from([0x00, 0x53, 0x70, 0x45]);

/** Turns a received AMQP message into what the broker stores. */
export function fromAmqp(message: Message): IncomingMessage {
  const annotations: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(message.message_annotations ?? {})) {
    if (!BROKER_ANNOTATIONS.has(key)) annotations[key] = value;
  }
  const scheduled = annotations[SCHEDULED_ENQUEUE_TIME];
  const messageId = message.message_id === undefined ? randomUUID().replaceAll("-", "") : message.message_id;
  const bareFields: Partial<Message> = {
    message_id: messageId,
    user_id: message.user_id,
    to: message.to,
    subject: message.subject,
    reply_to: message.reply_to,
    correlation_id: message.correlation_id,
    content_type: message.content_type,
    content_encoding: message.content_encoding,
    absolute_expiry_time: message.absolute_expiry_time,
    creation_time: message.creation_time,
    group_id: message.group_id,
    group_sequence: message.group_sequence,
    reply_to_group_id: message.reply_to_group_id,
    application_properties: message.application_properties,
    body: message.body,
    footer: message.footer,
  };
  return {
    system: systemProperties(message, messageId),
    applicationProperties: message.application_properties ?? {},
    annotations,
    durable: message.durable,
    priority: message.priority,
    ttlMs: typeof message.ttl === "number" ? message.ttl : undefined,
    scheduledAt:
      scheduled instanceof Date ? scheduled.getTime() : typeof scheduled === "number" ? scheduled : undefined,
    bare: encodeBare(bareFields),
  };
}

/** The parts of a (decoded) message filters and duplicate detection read. */
export function systemProperties(message: Message, messageId = message.message_id): SystemProperties {
  return {
    messageId: idText(messageId),
    correlationId: idText(message.correlation_id),
    contentType: message.content_type,
    subject: message.subject,
    to: message.to,
    replyTo: message.reply_to,
    replyToSessionId: message.reply_to_group_id,
    sessionId: message.group_id,
  };
}

/** The message with changed application properties (dead-letter reason, properties to modify). */
export function withApplicationProperties<T extends IncomingMessage>(
  message: T,
  changes: Record<string, unknown>,
): T {
  const bare = decodeMessage(message.bare);
  const applicationProperties = { ...(bare.application_properties ?? {}), ...changes };
  bare.application_properties = applicationProperties;
  return { ...message, applicationProperties, bare: encodeBare(bare) };
}

export interface DeliveryView {
  /** Lock expiry to announce (peek-lock deliveries, locked messages when peeked). */
  lockedUntil?: number;
  /** Defaults to the message's own state. */
  state?: keyof typeof MessageState;
}

/** The full AMQP encoding of a stored message as a receiver or a peek sees it. */
export function encodeForDelivery(message: StoredMessage, view: DeliveryView = {}): Buffer {
  const effectiveTtl = message.expiresAt - message.enqueuedAt;
  const header = rhea.types.wrap_list([
    message.durable ?? null,
    message.priority === undefined ? null : rhea.types.wrap_ubyte(message.priority),
    Number.isFinite(effectiveTtl) && effectiveTtl <= MAX_HEADER_TTL_MS
      ? rhea.types.wrap_uint(effectiveTtl)
      : null,
    null,
    rhea.types.wrap_uint(message.deliveryCount),
  ]);
  const state =
    view.state ??
    (message.state === "deferred" ? "deferred" : message.state === "scheduled" ? "scheduled" : "active");
  const annotations: Record<string, unknown> = {
    ...message.annotations,
    "x-opt-sequence-number": long(message.sequenceNumber),
    "x-opt-enqueued-time": timestamp(message.enqueuedAt),
  };
  if (view.lockedUntil !== undefined) annotations["x-opt-locked-until"] = timestamp(view.lockedUntil);
  if (state !== "active") annotations["x-opt-message-state"] = int(MessageState[state]);
  const writer = new (rhea.types as unknown as { Writer: new () => SectionWriter }).Writer();
  writer.write(rhea.types.described(rhea.types.wrap_ulong(0x70), header));
  writer.write(rhea.types.described(rhea.types.wrap_ulong(0x72), rhea.types.wrap_symbolic_map(annotations)));
  return Buffer.concat([writer.toBuffer(), message.bare]);
}

interface SectionWriter {
  write(value: unknown): void;
  toBuffer(): Buffer;
}

/** A message encoded for a `$management` body (schedule-message) turned back into a message. */
export function decodeScheduled(bytes: Buffer): Message {
  try {
    return decodeMessage(bytes);
  } catch (error) {
    throw new AmqpError(Condition.decodeError, `Undecodable scheduled message: ${(error as Error).message}`);
  }
}

function encodeBare(fields: Partial<Message>): Buffer {
  const encoded = encodeMessage(fields as Message);
  return encoded.subarray(0, 4).equals(EMPTY_HEADER) ? encoded.subarray(4) : encoded;
}

function idText(id: unknown): string | undefined {
  if (id === undefined || id === null) return undefined;
  if (Buffer.isBuffer(id)) return id.length === 16 ? rhea.uuid_to_string(id) : id.toString("hex");
  return String(id);
}

/** Lock tokens travel as delivery tags in .NET GUID byte order; the swap is its own inverse. */
export function lockTokenToTag(token: string): Buffer {
  return reorderGuidBytes(Buffer.from(rhea.string_to_uuid(token)));
}

export function tagToLockToken(tag: Buffer | string): string {
  const bytes = typeof tag === "string" ? Buffer.from(tag) : tag;
  return rhea.uuid_to_string(reorderGuidBytes(bytes));
}

function reorderGuidBytes(bytes: Buffer): Buffer {
  if (bytes.length !== 16) return bytes;
  const order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
  return Buffer.from(order.map((index) => bytes[index] as number));
}
