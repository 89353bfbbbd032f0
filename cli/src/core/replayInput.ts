/**
 * What `scanctl replay` sends: the contents of one input (file or stdin) turned into Event Hub
 * event bodies the way Azure's producers deliver them. An Activity Log diagnostic setting sends
 * `{ "records": [...] }` per event; an Event Grid subscription sends one event (Event Grid schema
 * or CloudEvents 1.0) per Event Hub event.
 *
 * Accepted input: an Activity Log body, an Event Grid event or CloudEvent, an array of any of
 * these, or JSON Lines of them (a Storage export of the Activity Log is JSON Lines of bare
 * records, which are sent together as one `{ records }` body).
 */

export type ReplayItemKind = "activity-log" | "event-grid" | "cloudevents";

export interface ReplayBody {
  kind: ReplayItemKind;
  /** `{ records: [...] }` for the Activity Log; one event object otherwise. */
  body: Record<string, unknown>;
  /** Activity Log records or events in this body. */
  count: number;
}

export type ParsedReplayInput = { ok: true; bodies: ReplayBody[] } | { ok: false; reason: string };

export function parseReplayInput(text: string): ParsedReplayInput {
  const values = parseJsonOrJsonLines(text);
  if (!values.ok) return values;
  const bodies: ReplayBody[] = [];
  const bareRecords: Record<string, unknown>[] = [];
  for (const [index, value] of values.items.entries()) {
    const where = values.items.length === 1 ? "the document" : `item ${index + 1}`;
    if (!isObject(value)) return { ok: false, reason: `${where} is not a JSON object` };
    const kind = classify(value);
    if (kind === undefined) {
      return {
        ok: false,
        reason: `${where} is neither an Activity Log body ({"records": [...]}) or record, nor an Event Grid event or CloudEvent`,
      };
    }
    if (kind === "activity-log-body") {
      const records = value.records as unknown[];
      if (!records.every(isObject)) return { ok: false, reason: `${where}: every record must be an object` };
      if (records.length > 0) bodies.push({ kind: "activity-log", body: value, count: records.length });
    } else if (kind === "activity-log-record") bareRecords.push(value);
    else bodies.push({ kind, body: value, count: 1 });
  }
  if (bareRecords.length > 0) {
    bodies.push({ kind: "activity-log", body: { records: bareRecords }, count: bareRecords.length });
  }
  if (bodies.length === 0) return { ok: false, reason: "contains no records or events" };
  return { ok: true, bodies };
}

/**
 * An Activity Log body too large for one Event Hub event, as two halves (records in order).
 * Undefined when it cannot be split (one record, or not an Activity Log body).
 */
export function splitActivityLogBody(body: ReplayBody): [ReplayBody, ReplayBody] | undefined {
  if (body.kind !== "activity-log" || body.count < 2) return undefined;
  const records = body.body.records as unknown[];
  const middle = Math.ceil(records.length / 2);
  const half = (part: unknown[]): ReplayBody => ({
    kind: "activity-log",
    body: { ...body.body, records: part },
    count: part.length,
  });
  return [half(records.slice(0, middle)), half(records.slice(middle))];
}

export interface ReplayTotals {
  events: number;
  activityLogRecords: number;
  eventGridEvents: number;
  cloudEvents: number;
}

export function replayTotals(bodies: readonly ReplayBody[]): ReplayTotals {
  const totals: ReplayTotals = { events: 0, activityLogRecords: 0, eventGridEvents: 0, cloudEvents: 0 };
  for (const body of bodies) {
    totals.events += 1;
    if (body.kind === "activity-log") totals.activityLogRecords += body.count;
    else if (body.kind === "event-grid") totals.eventGridEvents += body.count;
    else totals.cloudEvents += body.count;
  }
  return totals;
}

type Classified = "activity-log-body" | "activity-log-record" | "event-grid" | "cloudevents";

function classify(value: Record<string, unknown>): Classified | undefined {
  if (Array.isArray(value.records)) return "activity-log-body";
  if (typeof value.specversion === "string" && typeof value.type === "string") return "cloudevents";
  if (typeof value.eventType === "string") return "event-grid";
  if (value.operationName !== undefined && typeof value.resourceId === "string") return "activity-log-record";
  return undefined;
}

function parseJsonOrJsonLines(text: string): { ok: true; items: unknown[] } | { ok: false; reason: string } {
  const trimmed = text.replace(/^\uFEFF/, "").trim();
  if (trimmed.length === 0) return { ok: false, reason: "is empty" };
  let firstError: string;
  try {
    const value: unknown = JSON.parse(trimmed);
    return { ok: true, items: Array.isArray(value) ? value : [value] };
  } catch (error) {
    firstError = (error as Error).message;
  }
  const lines = trimmed.split(/\r?\n/);
  if (lines.length < 2) return { ok: false, reason: `is not valid JSON (${firstError})` };
  const items: unknown[] = [];
  for (const [index, line] of lines.entries()) {
    if (line.trim().length === 0) continue;
    try {
      items.push(JSON.parse(line));
    } catch {
      return { ok: false, reason: `is not valid JSON (${firstError}), nor JSON Lines (line ${index + 1})` };
    }
  }
  return { ok: true, items };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
