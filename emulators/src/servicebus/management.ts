/**
 * `<entity>/$management` operations of Service Bus (reference §E): renew-lock, peek, schedule and
 * cancel, receive deferred messages by sequence number, and dispositions of messages whose
 * receiver link is gone or that were received by sequence number.
 */
import rhea from "rhea";
import { longArray, readLong, readUuid, timestampArray, uuid } from "../amqp/codec.ts";
import { AmqpError, Condition } from "../amqp/errors.ts";
import type { ManagementRequest, ManagementResponse } from "../amqp/server.ts";
import { decodeScheduled, fromAmqp } from "./message.ts";
import type { MessageQueue } from "./messageQueue.ts";
import type { Resolved, ServiceBusNamespace } from "./namespace.ts";

export const Operation = {
  renewLock: "com.microsoft:renew-lock",
  peek: "com.microsoft:peek-message",
  schedule: "com.microsoft:schedule-message",
  cancelScheduled: "com.microsoft:cancel-scheduled-message",
  receiveBySequenceNumber: "com.microsoft:receive-by-sequence-number",
  updateDisposition: "com.microsoft:update-disposition",
} as const;

export function manage(
  namespace: ServiceBusNamespace,
  path: string,
  resolved: Resolved,
  request: ManagementRequest,
): ManagementResponse {
  const body = (request.body ?? {}) as Record<string, unknown>;
  switch (request.operation) {
    case Operation.renewLock: {
      const store = receivable(resolved, path);
      const expirations = lockTokens(body).map((token) => store.renewLock(token));
      return { body: { expirations: timestampArray(expirations) } };
    }
    case Operation.peek: {
      const store = receivable(resolved, path);
      const from = readLong(body["from-sequence-number"]) ?? 1;
      const count = readLong(body["message-count"]) ?? 1;
      const messages = store.peek(from, count);
      if (messages.length === 0) return { statusCode: 204 };
      return { body: { messages: messages.map((message) => ({ message })) } };
    }
    case Operation.schedule: {
      const entries = body.messages;
      if (!Array.isArray(entries)) throw argumentError("messages");
      const sequenceNumbers = entries.map((entry: { message?: unknown }) => {
        if (!Buffer.isBuffer(entry?.message)) throw argumentError("messages[].message");
        return namespace.send(path, fromAmqp(decodeScheduled(entry.message)));
      });
      return { body: { "sequence-numbers": longArray(sequenceNumbers) } };
    }
    case Operation.cancelScheduled: {
      namespace.cancelScheduled(resolved, sequenceNumbers(body));
      return {};
    }
    case Operation.receiveBySequenceNumber: {
      const store = receivable(resolved, path);
      const peekLock = readLong(body["receiver-settle-mode"]) !== 0;
      const received = store.receiveDeferred(sequenceNumbers(body), peekLock);
      return {
        body: {
          messages: received.map(({ payload, lockToken }) =>
            lockToken
              ? { message: payload, "lock-token": uuid(Buffer.from(rhea.string_to_uuid(lockToken))) }
              : { message: payload },
          ),
        },
      };
    }
    case Operation.updateDisposition: {
      const store = receivable(resolved, path);
      const properties = (body["properties-to-modify"] ?? undefined) as Record<string, unknown> | undefined;
      for (const token of lockTokens(body)) {
        switch (body["disposition-status"]) {
          case "completed":
            store.complete(token);
            break;
          case "abandoned":
            store.abandon(token, properties);
            break;
          case "defered":
          case "deferred":
            store.defer(token, properties);
            break;
          case "suspended":
            store.deadLetter(token, {
              reason: optionalString(body["deadletter-reason"]),
              description: optionalString(body["deadletter-description"]),
              properties,
            });
            break;
          default:
            throw argumentError("disposition-status");
        }
      }
      return {};
    }
    default:
      throw new AmqpError(
        Condition.notImplemented,
        `The operation '${request.operation}' is not supported by this emulator.`,
      );
  }
}

function receivable(resolved: Resolved, path: string): MessageQueue {
  if (resolved.kind === "topic") {
    throw new AmqpError(Condition.notAllowed, `'${path}' is a topic: use one of its subscriptions.`);
  }
  return resolved.store;
}

function lockTokens(body: Record<string, unknown>): string[] {
  const tokens = body["lock-tokens"];
  if (!Array.isArray(tokens)) throw argumentError("lock-tokens");
  return tokens.map((token) => readUuid(token) ?? throwError(argumentError("lock-tokens")));
}

function sequenceNumbers(body: Record<string, unknown>): number[] {
  const values = body["sequence-numbers"];
  if (!Array.isArray(values)) throw argumentError("sequence-numbers");
  return values.map((value) => readLong(value) ?? throwError(argumentError("sequence-numbers")));
}

function optionalString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function argumentError(field: string): AmqpError {
  return new AmqpError(Condition.argumentError, `The request is missing or has an invalid '${field}'.`);
}

function throwError(error: Error): never {
  throw error;
}
