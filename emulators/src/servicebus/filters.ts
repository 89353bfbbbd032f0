/**
 * Subscription rules: a message is copied to a subscription when any of its rules matches, and a
 * subscription without rules takes everything (Service Bus's `$Default` rule, `1=1`). Correlation
 * filters match when every given field equals the message's (application properties included).
 */
import type { SubscriptionDefinition, SubscriptionFilter } from "./config.ts";
import type { IncomingMessage, SystemProperties } from "./message.ts";

const SYSTEM_FIELDS: Record<string, keyof SystemProperties> = {
  ContentType: "contentType",
  CorrelationId: "correlationId",
  Label: "subject",
  MessageId: "messageId",
  ReplyTo: "replyTo",
  ReplyToSessionId: "replyToSessionId",
  SessionId: "sessionId",
  To: "to",
};

export function matchesAnyRule(rules: SubscriptionDefinition["rules"], message: IncomingMessage): boolean {
  return rules.length === 0 || rules.some((rule) => matches(rule.filter, message));
}

export function matches(filter: SubscriptionFilter, message: IncomingMessage): boolean {
  if (filter.type !== "correlation") return filter.type === "true";
  for (const [field, expected] of Object.entries(filter.system)) {
    const key = SYSTEM_FIELDS[field];
    if (!key || message.system[key] !== expected) return false;
  }
  for (const [name, expected] of Object.entries(filter.properties)) {
    if (message.applicationProperties[name] !== expected) return false;
  }
  return true;
}
