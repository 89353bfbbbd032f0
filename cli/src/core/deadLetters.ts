/**
 * Dead letters as scanctl sees them, independent of the SDK: what identifies one, what it says
 * about the failure, which image it concerns; how a selection of them is described (by sequence
 * number, reason, registry, age) and matched; and the summary grouped by reason.
 */
import { APP_PROPERTY } from "@qcs/shared";

/** The dead-letter queues scanctl works on: deployment requests, sweep requests, results, notifications. */
export type DeadLetterEntity = "requests" | "sweep" | "results" | "notifications";
export const DEAD_LETTER_ENTITIES: readonly DeadLetterEntity[] = [
  "requests",
  "sweep",
  "results",
  "notifications",
];

export interface DeadLetter {
  /** Unique within the dead-letter queue; bigint because Service Bus sequence numbers are 64-bit. */
  sequenceNumber: bigint;
  messageId: string | undefined;
  enqueuedAt: Date | undefined;
  deliveryCount: number | undefined;
  reason: string | undefined;
  description: string | undefined;
  subject: string | undefined;
  contentType: string | undefined;
  correlationId: string | undefined;
  sessionId: string | undefined;
  partitionKey: string | undefined;
  applicationProperties: Readonly<Record<string, unknown>>;
  body: unknown;
}

/** Which dead letters an operation applies to. Criteria combine with AND; an empty one matches all. */
export interface DeadLetterSelection {
  sequenceNumbers?: readonly bigint[];
  /** Exact dead-letter reasons (case-insensitive). */
  reasons?: readonly string[];
  /** Registry host names (case-insensitive). */
  registries?: readonly string[];
  /** Only dead letters enqueued at least this long ago. */
  olderThanMs?: number;
}

const NO_REASON = "(none)";

/** The image reference a dead letter concerns: the `imageRef` property, else the body's `image.ref`. */
export function imageOf(deadLetter: DeadLetter): string | undefined {
  return stringProperty(deadLetter, APP_PROPERTY.imageRef) ?? bodyImage(deadLetter.body)?.ref;
}

export function registryOf(deadLetter: DeadLetter): string | undefined {
  return stringProperty(deadLetter, APP_PROPERTY.registry) ?? bodyImage(deadLetter.body)?.registry;
}

export function matchesSelection(deadLetter: DeadLetter, selection: DeadLetterSelection, now: Date): boolean {
  const { sequenceNumbers, reasons, registries, olderThanMs } = selection;
  if (sequenceNumbers && !sequenceNumbers.includes(deadLetter.sequenceNumber)) return false;
  if (reasons && !includesIgnoringCase(reasons, deadLetter.reason ?? NO_REASON)) return false;
  if (registries) {
    const registry = registryOf(deadLetter);
    if (registry === undefined || !includesIgnoringCase(registries, registry)) return false;
  }
  if (olderThanMs !== undefined) {
    if (deadLetter.enqueuedAt === undefined) return false;
    if (now.getTime() - deadLetter.enqueuedAt.getTime() < olderThanMs) return false;
  }
  return true;
}

export function selectDeadLetters(
  deadLetters: readonly DeadLetter[],
  selection: DeadLetterSelection,
  now: Date,
): DeadLetter[] {
  return deadLetters.filter((deadLetter) => matchesSelection(deadLetter, selection, now));
}

export interface ReasonGroup {
  reason: string;
  count: number;
  oldest: Date | undefined;
  newest: Date | undefined;
}

/** One group per reason, largest first (ties by name), with the oldest and newest enqueue times. */
export function groupByReason(deadLetters: readonly DeadLetter[]): ReasonGroup[] {
  const groups = new Map<string, ReasonGroup>();
  for (const deadLetter of deadLetters) {
    const reason = deadLetter.reason ?? NO_REASON;
    const group = groups.get(reason) ?? { reason, count: 0, oldest: undefined, newest: undefined };
    group.count += 1;
    const at = deadLetter.enqueuedAt;
    if (at !== undefined) {
      if (group.oldest === undefined || at < group.oldest) group.oldest = at;
      if (group.newest === undefined || at > group.newest) group.newest = at;
    }
    groups.set(reason, group);
  }
  return [...groups.values()].sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
}

/** Parses `--seq` values; sequence numbers are non-negative 64-bit integers. */
export function parseSequenceNumber(text: string): bigint {
  if (!/^\d{1,19}$/.test(text.trim())) throw new RangeError(`not a sequence number: "${text}"`);
  const value = BigInt(text.trim());
  if (value > 9_223_372_036_854_775_807n) throw new RangeError(`not a sequence number: "${text}"`);
  return value;
}

function stringProperty(deadLetter: DeadLetter, name: string): string | undefined {
  const value = deadLetter.applicationProperties[name];
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

function bodyImage(body: unknown): { ref?: string; registry?: string } | undefined {
  if (typeof body !== "object" || body === null || !("image" in body)) return undefined;
  const image = (body as { image: unknown }).image;
  if (typeof image !== "object" || image === null) return undefined;
  const { ref, registry } = image as { ref?: unknown; registry?: unknown };
  return {
    ...(typeof ref === "string" ? { ref } : {}),
    ...(typeof registry === "string" ? { registry } : {}),
  };
}

function includesIgnoringCase(values: readonly string[], value: string): boolean {
  const lower = value.toLowerCase();
  return values.some((candidate) => candidate.toLowerCase() === lower);
}
