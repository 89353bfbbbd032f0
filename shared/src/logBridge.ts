/**
 * Log lines to OpenTelemetry log records: with log export on, every line the service's pino logger
 * writes (after redaction) is also emitted through the logs API of the SDK that exports, in the
 * context of the call that logged, so Application Insights or the OTLP backend correlates it with
 * the trace. (Instrumentations patch modules as they are `require`d, which ESM imports never are;
 * the Azure Monitor distro's covers bunyan and winston, not pino.)
 */

/** What an OpenTelemetry logger's `emit` takes, as far as the bridge fills it (api and api-logs alike). */
export interface BridgedLogRecord {
  timestamp?: Date;
  severityNumber: number;
  severityText: string;
  body: string;
  attributes: Record<string, string | number | boolean>;
}

/** pino's levels and OpenTelemetry's severity numbers (TRACE=1, DEBUG=5, INFO=9, WARN=13, ERROR=17, FATAL=21). */
const SEVERITIES: Record<number, [number, string]> = {
  10: [1, "TRACE"],
  20: [5, "DEBUG"],
  30: [9, "INFO"],
  40: [13, "WARN"],
  50: [17, "ERROR"],
  60: [21, "FATAL"],
};

/** Fields every line has that say nothing the resource does not (or that become the record's own). */
const DROPPED = new Set(["level", "time", "msg", "pid", "hostname", "name", "service"]);

/** The log record for one pino JSON line, or undefined for a line that is not one. */
export function logRecordOf(line: string): BridgedLogRecord | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const fields = parsed as Record<string, unknown>;
  const [severityNumber, severityText] = SEVERITIES[Number(fields.level)] ?? [9, "INFO"];
  const attributes: BridgedLogRecord["attributes"] = {};
  for (const [key, value] of Object.entries(fields)) {
    if (DROPPED.has(key) || value === undefined || value === null) continue;
    if (key === "err" && typeof value === "object") {
      const error = value as Record<string, unknown>;
      if (error.type) attributes["exception.type"] = String(error.type);
      if (error.message) attributes["exception.message"] = String(error.message);
      if (error.stack) attributes["exception.stacktrace"] = String(error.stack);
      continue;
    }
    attributes[key] =
      typeof value === "string" || typeof value === "number" || typeof value === "boolean"
        ? value
        : JSON.stringify(value);
  }
  const time =
    typeof fields.time === "string" || typeof fields.time === "number" ? new Date(fields.time) : undefined;
  return {
    ...(time && !Number.isNaN(time.getTime()) ? { timestamp: time } : {}),
    severityNumber,
    severityText,
    body: typeof fields.msg === "string" ? fields.msg : "",
    attributes,
  };
}

/** A line sink that emits each line to `logger` (an OpenTelemetry logger of either API). */
export function logLineSink(logger: { emit(record: BridgedLogRecord): void }): (line: string) => void {
  return (line) => {
    const record = logRecordOf(line);
    if (record) logger.emit(record);
  };
}
