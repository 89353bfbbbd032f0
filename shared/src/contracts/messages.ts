/**
 * Building and parsing the Service Bus messages that carry the contracts. The shapes here are
 * structurally compatible with `ServiceBusMessage` / `ServiceBusReceivedMessage` of
 * `@azure/service-bus`, so the contracts stay free of SDK imports.
 */
import type { z } from "zod";
import { ContractError } from "./contractError.ts";
import { scanCompletedMessageId, scanRequestMessageId } from "./dedupKey.ts";
import { type ScanCompleted, ScanCompletedV1, type ScanRequested, ScanRequestedV1 } from "./schemas.ts";

export const JSON_CONTENT_TYPE = "application/json";
export const SCAN_REQUESTED_SUBJECT = "ScanRequested";
export const SCAN_COMPLETED_SUBJECT = "ScanCompleted";

/** Application properties set on requests, so dead letters can be filtered without parsing bodies. */
export const APP_PROPERTY = {
  registry: "registry",
  imageRef: "imageRef",
  schemaVersion: "schemaVersion",
  status: "status",
  /** Set by `scanctl dlq resubmit`: sequence number of the dead letter a message was copied from. */
  resubmittedFrom: "resubmittedFrom",
  /** Scanner retries: how many attempts came before this delivery of the same request. */
  attempt: "attempt",
} as const;

export interface OutgoingMessage<TBody> {
  body: TBody;
  messageId: string;
  subject: string;
  contentType: string;
  applicationProperties: Record<string, string | number | boolean>;
}

/** The parts of a received message the parsers read. */
export interface IncomingMessage {
  body: unknown;
  subject?: string | undefined;
  contentType?: string | undefined;
}

export function buildScanRequestedMessage(request: ScanRequested): OutgoingMessage<ScanRequested> {
  const body = validate("ScanRequested", ScanRequestedV1, request);
  return {
    body,
    messageId: scanRequestMessageId(body.image, body.force ? body.requestId : undefined, body.sources),
    subject: SCAN_REQUESTED_SUBJECT,
    contentType: JSON_CONTENT_TYPE,
    applicationProperties: {
      [APP_PROPERTY.registry]: body.image.registry,
      [APP_PROPERTY.imageRef]: body.image.ref,
      [APP_PROPERTY.schemaVersion]: body.schemaVersion,
    },
  };
}

export function buildScanCompletedMessage(scan: ScanCompleted): OutgoingMessage<ScanCompleted> {
  const body = validate("ScanCompleted", ScanCompletedV1, scan);
  return {
    body,
    messageId: scanCompletedMessageId(body),
    subject: SCAN_COMPLETED_SUBJECT,
    contentType: JSON_CONTENT_TYPE,
    applicationProperties: {
      [APP_PROPERTY.registry]: body.image.registry,
      [APP_PROPERTY.imageRef]: body.image.ref,
      [APP_PROPERTY.schemaVersion]: body.schemaVersion,
      [APP_PROPERTY.status]: body.status,
    },
  };
}

export function parseScanRequestedMessage(message: IncomingMessage): ScanRequested {
  return parseMessage("ScanRequested", ScanRequestedV1, message);
}

export function parseScanCompletedMessage(message: IncomingMessage): ScanCompleted {
  return parseMessage("ScanCompleted", ScanCompletedV1, message);
}

function parseMessage<T>(contract: string, schema: z.ZodType<T>, message: IncomingMessage): T {
  if (message.subject !== undefined && message.subject !== contract) {
    throw new ContractError(contract, [
      { field: "subject", message: `expected ${contract}, got ${message.subject}` },
    ]);
  }
  if (message.contentType !== undefined && !message.contentType.startsWith(JSON_CONTENT_TYPE)) {
    throw new ContractError(contract, [{ field: "contentType", message: `expected ${JSON_CONTENT_TYPE}` }]);
  }
  return validate(contract, schema, decodeJsonBody(contract, message.body));
}

/**
 * The SDK sends an object body as JSON bytes in a data section and decodes JSON back to an object;
 * other producers may deliver the JSON as a string or raw bytes. Accept all three.
 */
function decodeJsonBody(contract: string, body: unknown): unknown {
  if (body instanceof Uint8Array || typeof body === "string") {
    const text = typeof body === "string" ? body : Buffer.from(body).toString("utf8");
    try {
      return JSON.parse(text);
    } catch {
      throw new ContractError(contract, [{ field: "(body)", message: "not valid JSON" }]);
    }
  }
  return body;
}

function validate<T>(contract: string, schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) throw ContractError.fromZod(contract, result.error);
  return result.data;
}
