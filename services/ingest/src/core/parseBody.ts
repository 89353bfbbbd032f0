/**
 * Event Hub event bodies -> operation records. Two producers write to the hub: an Activity Log
 * diagnostic setting (`{ "records": [...] }`, many records per event) and an Event Grid
 * subscription (Event Grid schema or CloudEvents 1.0, one event or an array). Both are reduced to
 * the same record; anything unexpected becomes a rejection with a reason instead of an exception,
 * and unknown fields are ignored.
 */

export type RecordStatus = "start" | "accept" | "success" | "failure" | "unknown";

export interface OperationRecord {
  /** Lower-case, e.g. `microsoft.app/containerapps/write`. */
  operationName: string;
  /** As delivered (original casing where the producer kept it). */
  resourceId: string;
  status: RecordStatus;
  eventTime: string | undefined;
  correlationId: string | undefined;
}

export type RejectionReason =
  | "not-json"
  | "unknown-shape"
  | "records-not-array"
  | "missing-field"
  | "unsupported-specversion"
  | "invalid-time"
  | "other-event-type";

export type ParsedItem =
  | { ok: true; record: OperationRecord }
  | { ok: false; reason: RejectionReason; detail: string };

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * One item per record in the body (one per Activity Log record or Event Grid event), or a single
 * rejection when the body as a whole is unusable. `body` is what the Event Hubs SDK delivers: raw
 * bytes, a string, or an already decoded value.
 */
export function parseEventBody(body: unknown): ParsedItem[] {
  let value: unknown = body;
  if (body instanceof Uint8Array || typeof body === "string") {
    try {
      value = JSON.parse(typeof body === "string" ? body : decoder.decode(body));
    } catch (error) {
      return [reject("not-json", truncate(error instanceof Error ? error.message : String(error)))];
    }
  }
  if (Array.isArray(value)) return value.map((event, index) => parseGridEvent(event, `event ${index}`));
  if (!isObject(value))
    return [reject("unknown-shape", `body is ${describe(value)}, not an object or array`)];
  if ("records" in value) {
    const records = value.records;
    if (!Array.isArray(records)) return [reject("records-not-array", `records is ${describe(records)}`)];
    return records.map((record, index) => parseActivityLogRecord(record, `record ${index}`));
  }
  if ("eventType" in value || "specversion" in value) return [parseGridEvent(value, "event")];
  return [
    reject("unknown-shape", "neither an Activity Log body ({records}) nor an Event Grid event or CloudEvent"),
  ];
}

// Activity Log diagnostic-setting record (Azure Monitor resource-log schema).
function parseActivityLogRecord(record: unknown, where: string): ParsedItem {
  if (!isObject(record)) return reject("unknown-shape", `${where} is ${describe(record)}, not an object`);
  // The REST form nests some values as { value }; the Event Hubs form has plain strings.
  const operationName = text(record.operationName) ?? text(nestedValue(record.operationName));
  const resourceId = text(record.resourceId);
  if (operationName === undefined) return reject("missing-field", `${where} has no operationName`);
  if (resourceId === undefined) return reject("missing-field", `${where} has no resourceId`);
  const time = record.time ?? record.eventTimestamp;
  if (!isTime(time)) return reject("invalid-time", `${where} has a time that is ${describe(time)}`);
  const properties = isObject(record.properties) ? record.properties : {};
  const entity = text(properties.entity);
  const resultType = text(record.resultType) ?? text(nestedValue(record.status));
  const signature = text(record.resultSignature)?.split(".")[0];
  return {
    ok: true,
    record: {
      operationName: operationName.toLowerCase(),
      // `resourceId` is often upper-cased in the stream; `properties.entity` keeps ARM's casing.
      resourceId:
        entity !== undefined && entity.toLowerCase() === resourceId.toLowerCase() ? entity : resourceId,
      status: statusOf(resultType ?? signature),
      eventTime: text(time),
      correlationId: text(record.correlationId),
    },
  };
}

const RESOURCE_EVENT = /^microsoft\.resources\.resource(?:write|delete|action)(success|failure|cancel)$/;

// Event Grid schema ({eventType, subject, data, eventTime}) or CloudEvents 1.0 ({type, subject, data, time}).
function parseGridEvent(event: unknown, where: string): ParsedItem {
  if (!isObject(event)) return reject("unknown-shape", `${where} is ${describe(event)}, not an object`);
  // Event Grid delivers CloudEvents 1.0 only; a body claiming another version is not ours to guess at.
  if ("specversion" in event && event.specversion !== "1.0") {
    const version =
      typeof event.specversion === "string" ? truncate(event.specversion) : describe(event.specversion);
    return reject("unsupported-specversion", `${where} has specversion ${version}, not 1.0`);
  }
  const type = text(event.eventType) ?? ("specversion" in event ? text(event.type) : undefined);
  if (type === undefined)
    return reject("unknown-shape", `${where} is neither an Event Grid event nor a CloudEvent`);
  const outcome = RESOURCE_EVENT.exec(type.toLowerCase())?.[1];
  if (outcome === undefined) return reject("other-event-type", `${where} has type ${truncate(type)}`);
  const time = event.eventTime ?? event.time;
  if (!isTime(time)) return reject("invalid-time", `${where} has a time that is ${describe(time)}`);
  const data = isObject(event.data) ? event.data : {};
  const operationName = text(data.operationName);
  const resourceId = text(data.resourceUri) ?? text(event.subject);
  if (operationName === undefined) return reject("missing-field", `${where} has no data.operationName`);
  if (resourceId === undefined) return reject("missing-field", `${where} has no data.resourceUri or subject`);
  return {
    ok: true,
    record: {
      operationName: operationName.toLowerCase(),
      resourceId,
      status: outcome === "success" ? "success" : "failure",
      eventTime: text(time),
      correlationId: text(data.correlationId),
    },
  };
}

const STATUS: Readonly<Record<string, RecordStatus>> = {
  start: "start",
  started: "start",
  accept: "accept",
  accepted: "accept",
  success: "success",
  succeeded: "success",
  failure: "failure",
  failed: "failure",
  cancel: "failure",
  canceled: "failure",
  cancelled: "failure",
};

function statusOf(value: string | undefined): RecordStatus {
  return (value !== undefined && STATUS[value.toLowerCase()]) || "unknown";
}

function reject(reason: RejectionReason, detail: string): ParsedItem {
  return { ok: false, reason, detail };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

/** Absent or a string; whether the string is a valid time is for select to say. */
function isTime(value: unknown): boolean {
  return value === undefined || value === null || typeof value === "string";
}

function nestedValue(value: unknown): unknown {
  return isObject(value) ? value.value : undefined;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

function truncate(message: string): string {
  return message.length > 200 ? `${message.slice(0, 197)}...` : message;
}
