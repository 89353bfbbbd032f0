/**
 * Messages to and from their journal form: the bare message kept byte for byte, annotations
 * AMQP-encoded (they hold timestamps and typed values JSON would lose), broker fields as numbers.
 */
import type { Message } from "rhea";
import { decodeMessage, encodeMessage } from "../amqp/codec.ts";
import type { PersistedIncoming, PersistedMessage } from "./journal.ts";
import { type IncomingMessage, type StoredMessage, systemProperties } from "./message.ts";

export function toPersistedIncoming(message: IncomingMessage): PersistedIncoming {
  const persisted: PersistedIncoming = { b: message.bare.toString("base64") };
  if (Object.keys(message.annotations).length > 0) {
    persisted.a = encodeMessage({ message_annotations: message.annotations } as Message).toString("base64");
  }
  if (message.durable !== undefined) persisted.h = message.durable;
  if (message.priority !== undefined) persisted.p = message.priority;
  if (message.ttlMs !== undefined) persisted.l = message.ttlMs;
  if (message.scheduledAt !== undefined) persisted.at = message.scheduledAt;
  return persisted;
}

export function toPersisted(message: StoredMessage): PersistedMessage {
  const persisted: PersistedMessage = {
    ...toPersistedIncoming(message),
    n: message.sequenceNumber,
    e: message.enqueuedAt,
    c: message.deliveryCount,
  };
  if (Number.isFinite(message.expiresAt)) persisted.x = message.expiresAt;
  if (message.deferred) persisted.d = true;
  return persisted;
}

export function fromPersistedIncoming(persisted: PersistedIncoming): IncomingMessage {
  const bare = Buffer.from(persisted.b, "base64");
  const decoded = decodeMessage(bare);
  const annotations = persisted.a
    ? ((decodeMessage(Buffer.from(persisted.a, "base64")).message_annotations ?? {}) as Record<
        string,
        unknown
      >)
    : {};
  const message: IncomingMessage = {
    system: systemProperties(decoded),
    applicationProperties: decoded.application_properties ?? {},
    annotations,
    bare,
  };
  if (persisted.h !== undefined) message.durable = persisted.h;
  if (persisted.p !== undefined) message.priority = persisted.p;
  if (persisted.l !== undefined) message.ttlMs = persisted.l;
  if (persisted.at !== undefined) message.scheduledAt = persisted.at;
  return message;
}

/** A stored message as the journal kept it; its state (available, deferred, scheduled) is decided by its store. */
export function fromPersisted(persisted: PersistedMessage): StoredMessage {
  return {
    ...fromPersistedIncoming(persisted),
    sequenceNumber: persisted.n,
    enqueuedAt: persisted.e,
    expiresAt: persisted.x ?? Number.POSITIVE_INFINITY,
    deliveryCount: persisted.c,
    state: "available",
    deferred: persisted.d === true,
    lock: undefined,
  };
}
