/**
 * Where a receiver starts: the SDK sends it as an `apache.org:selector-filter:string` on the link
 * source, e.g. `amqp.annotation.x-opt-offset > '-1'` (earliest), `> '@latest'` (latest),
 * `amqp.annotation.x-opt-sequence-number >= '42'`, `amqp.annotation.x-opt-enqueued-time > '1700000000000'`.
 */
import { AmqpError, Condition } from "../amqp/errors.ts";

export type EventPosition =
  | { kind: "earliest" }
  | { kind: "latest" }
  | { kind: "offset"; offset: number; inclusive: boolean }
  | { kind: "sequenceNumber"; sequenceNumber: number; inclusive: boolean }
  | { kind: "enqueuedTime"; enqueuedTimeMs: number; inclusive: boolean };

export const SELECTOR_FILTER_NAME = "apache.org:selector-filter:string";

const EXPRESSION =
  /^\s*amqp\.annotation\.(x-opt-offset|x-opt-sequence-number|x-opt-enqueued-time)\s*(>=|>)\s*'([^']*)'\s*$/i;

/** Parses a selector expression; no expression means the start of the partition, as in Event Hubs. */
export function parseSelectorFilter(expression: string | undefined): EventPosition {
  if (expression === undefined) return { kind: "earliest" };
  const match = EXPRESSION.exec(expression);
  if (!match) {
    throw new AmqpError(
      Condition.argumentError,
      `The selector filter '${expression}' is not supported: expected amqp.annotation.<x-opt-offset|x-opt-sequence-number|x-opt-enqueued-time> > or >= '<value>'.`,
    );
  }
  const [, annotation = "", operator, value = ""] = match;
  const inclusive = operator === ">=";
  switch (annotation.toLowerCase()) {
    case "x-opt-offset":
      if (value === "-1") return { kind: "earliest" };
      if (value === "@latest") return { kind: "latest" };
      return { kind: "offset", offset: wholeNumber(value, "offset"), inclusive };
    case "x-opt-sequence-number":
      return { kind: "sequenceNumber", sequenceNumber: wholeNumber(value, "sequence number", -1), inclusive };
    default:
      return { kind: "enqueuedTime", enqueuedTimeMs: wholeNumber(value, "enqueued time"), inclusive };
  }
}

function wholeNumber(value: string, what: string, minimum = 0): number {
  const number = /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(number) || number < minimum) {
    throw new AmqpError(Condition.argumentError, `The ${what} '${value}' in the selector filter is invalid.`);
  }
  return number;
}
