/**
 * Errors the broker reports to clients. An `AmqpError` becomes a link detach error, a `rejected`
 * outcome or a `$management` / `$cbs` status, so every refusal carries the condition the Azure SDKs
 * translate (e.g. `amqp:not-found` -> `MessagingEntityNotFound`).
 */
export const Condition = {
  notFound: "amqp:not-found",
  notImplemented: "amqp:not-implemented",
  internalError: "amqp:internal-error",
  invalidField: "amqp:invalid-field",
  decodeError: "amqp:decode-error",
  unauthorized: "amqp:unauthorized-access",
  notAllowed: "amqp:not-allowed",
  messageSizeExceeded: "amqp:link:message-size-exceeded",
  frameSizeTooSmall: "amqp:frame-size-too-small",
  argumentError: "com.microsoft:argument-error",
  argumentOutOfRange: "com.microsoft:argument-out-of-range",
  messageLockLost: "com.microsoft:message-lock-lost",
  messageNotFound: "com.microsoft:message-not-found",
  deadLetter: "com.microsoft:dead-letter",
} as const;

/** HTTP-like status codes that `$cbs` and `$management` replies carry for each condition. */
const STATUS_BY_CONDITION: Record<string, number> = {
  [Condition.notFound]: 404,
  [Condition.messageNotFound]: 404,
  [Condition.unauthorized]: 401,
  [Condition.notAllowed]: 403,
  [Condition.messageLockLost]: 410,
  [Condition.argumentError]: 400,
  [Condition.argumentOutOfRange]: 400,
  [Condition.invalidField]: 400,
  [Condition.decodeError]: 400,
  [Condition.notImplemented]: 501,
};

export class AmqpError extends Error {
  override readonly name = "AmqpError";
  readonly condition: string;
  readonly statusCode: number;

  constructor(condition: string, description: string, statusCode?: number) {
    super(description);
    this.condition = condition;
    this.statusCode = statusCode ?? STATUS_BY_CONDITION[condition] ?? 500;
  }

  /** The AMQP `error` composite (detach, rejected outcome). */
  toAmqp(): { condition: string; description: string } {
    return { condition: this.condition, description: this.message };
  }
}

/** Anything thrown by a service becomes an `AmqpError`; unexpected errors become internal errors. */
export function toAmqpError(error: unknown): AmqpError {
  if (error instanceof AmqpError) return error;
  const text = error instanceof Error ? error.message : String(error);
  return new AmqpError(Condition.internalError, `The broker failed: ${text}`);
}
