/**
 * Errors the broker returns to clients, with the AMQP conditions Event Hubs uses so the SDK
 * raises the same error types it raises against the service.
 */
export type EventHubsErrorCondition =
  | "amqp:not-found"
  | "amqp:link:stolen"
  | "amqp:link:message-size-exceeded"
  | "amqp:resource-limit-exceeded"
  | "amqp:not-implemented"
  | "com.microsoft:argument-out-of-range"
  | "com.microsoft:argument-error";

/** Status codes for `$management` / `$cbs` responses carrying these conditions. */
const STATUS_CODES: Record<EventHubsErrorCondition, number> = {
  "amqp:not-found": 404,
  "amqp:link:stolen": 410,
  "amqp:link:message-size-exceeded": 413,
  "amqp:resource-limit-exceeded": 403,
  "amqp:not-implemented": 501,
  "com.microsoft:argument-out-of-range": 400,
  "com.microsoft:argument-error": 400,
};

export class EventHubsError extends Error {
  override readonly name = "EventHubsError";
  readonly condition: EventHubsErrorCondition;
  readonly statusCode: number;
  constructor(condition: EventHubsErrorCondition, description: string) {
    super(description);
    this.condition = condition;
    this.statusCode = STATUS_CODES[condition];
  }
}

export function isEventHubsError(error: unknown): error is EventHubsError {
  return error instanceof Error && error.name === "EventHubsError";
}
