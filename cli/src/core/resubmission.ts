/**
 * The copy of a dead letter that `scanctl dlq resubmit` sends back to the main entity.
 *
 * Its messageId is new relative to the original, so the main entity's duplicate detection does
 * not drop it as a repeat of the message that failed, yet the same for every attempt to resubmit
 * the same dead letter (SHA-256 of the original messageId and the dead letter's sequence number):
 * when a copy was sent but removing the dead letter failed, resubmitting again sends a copy the
 * broker recognises and drops, instead of a second one.
 *
 * The body is sent unchanged (a forced request stays forced); the broker's dead-letter properties
 * and the scanner's attempt counter are dropped, since the copy starts a fresh round of attempts;
 * `resubmittedFrom` names the dead letter it came from.
 */
import { createHash } from "node:crypto";
import { APP_PROPERTY } from "@qcs/shared";
import type { DeadLetter } from "./deadLetters.ts";

/** Properties Service Bus puts on a dead letter; they describe the old failure, not the copy. */
const DEAD_LETTER_PROPERTIES = ["DeadLetterReason", "DeadLetterErrorDescription"];
const DROPPED_PROPERTIES = new Set([...DEAD_LETTER_PROPERTIES, APP_PROPERTY.attempt]);

export interface ResubmissionCopy {
  messageId: string;
  body: unknown;
  subject?: string;
  contentType?: string;
  correlationId?: string;
  sessionId?: string;
  partitionKey?: string;
  applicationProperties: Record<string, unknown>;
}

export function resubmissionMessageId(originalMessageId: string | undefined, sequenceNumber: bigint): string {
  return createHash("sha256")
    .update(`scanctl-resubmit\n${originalMessageId ?? ""}\n${sequenceNumber}`)
    .digest("hex");
}

export function resubmissionCopy(deadLetter: DeadLetter): ResubmissionCopy {
  const applicationProperties: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(deadLetter.applicationProperties)) {
    if (!DROPPED_PROPERTIES.has(name)) applicationProperties[name] = value;
  }
  // A string: sequence numbers are 64-bit and would lose digits as a JSON/AMQP double.
  applicationProperties[APP_PROPERTY.resubmittedFrom] = deadLetter.sequenceNumber.toString();
  return {
    messageId: resubmissionMessageId(deadLetter.messageId, deadLetter.sequenceNumber),
    body: deadLetter.body,
    ...defined("subject", deadLetter.subject),
    ...defined("contentType", deadLetter.contentType),
    ...defined("correlationId", deadLetter.correlationId),
    ...defined("sessionId", deadLetter.sessionId),
    ...defined("partitionKey", deadLetter.partitionKey),
    applicationProperties,
  };
}

function defined<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
