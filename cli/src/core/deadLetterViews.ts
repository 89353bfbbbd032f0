/**
 * What `dlq list` and `dlq show` print: JSON documents for scripts (sequence numbers as strings,
 * 64-bit), and tables or a property listing for people.
 */
import { type DeadLetter, groupByReason, imageOf, type ReasonGroup, registryOf } from "./deadLetters.ts";
import { formatAge } from "./duration.ts";
import { formatTime, renderTable } from "./table.ts";

export interface DeadLetterListing {
  /** `scan-requests/$DeadLetterQueue` and the like. */
  path: string;
  /** Dead letters peeked (the whole queue unless the peek stopped at its bound). */
  peeked: number;
  /** True when the peek stopped at its bound before the end of the queue. */
  peekTruncated: boolean;
  /** Dead letters that matched the filters, oldest first. */
  matched: readonly DeadLetter[];
  /** Rows to show at most. */
  limit: number;
}

export function deadLetterListingJson(listing: DeadLetterListing) {
  return {
    path: listing.path,
    peeked: listing.peeked,
    peekTruncated: listing.peekTruncated,
    matched: listing.matched.length,
    byReason: groupByReason(listing.matched).map(reasonGroupJson),
    items: listing.matched.slice(0, listing.limit).map(deadLetterSummaryJson),
    truncated: listing.matched.length > listing.limit,
  };
}

export function renderDeadLetterListing(listing: DeadLetterListing, now: Date): string {
  const { matched, limit } = listing;
  const lines = [
    `${listing.path}: ${matched.length} matching of ${listing.peeked} dead letter${listing.peeked === 1 ? "" : "s"}` +
      (listing.peekTruncated ? " (peek stopped at its bound; the queue holds more)" : ""),
  ];
  if (matched.length === 0) return lines.join("\n");
  lines.push(
    "",
    renderTable(
      [{ header: "reason" }, { header: "count", align: "right" }, { header: "oldest" }, { header: "newest" }],
      groupByReason(matched).map((group) => [
        group.reason,
        String(group.count),
        age(group.oldest, now),
        age(group.newest, now),
      ]),
    ),
    "",
    renderTable(
      [
        { header: "seq", align: "right" },
        { header: "enqueued" },
        { header: "deliveries", align: "right" },
        { header: "reason", maxWidth: 28 },
        { header: "description", maxWidth: 48 },
        { header: "image" },
      ],
      matched
        .slice(0, limit)
        .map((deadLetter) => [
          deadLetter.sequenceNumber.toString(),
          formatTime(deadLetter.enqueuedAt),
          deadLetter.deliveryCount === undefined ? "-" : String(deadLetter.deliveryCount),
          deadLetter.reason ?? "-",
          deadLetter.description ?? "-",
          imageOf(deadLetter) ?? "-",
        ]),
    ),
  );
  if (matched.length > limit) lines.push(`(${limit} of ${matched.length} shown; --limit shows more)`);
  return lines.join("\n");
}

export function deadLetterSummaryJson(deadLetter: DeadLetter) {
  return {
    sequenceNumber: deadLetter.sequenceNumber.toString(),
    messageId: deadLetter.messageId ?? null,
    enqueuedAt: deadLetter.enqueuedAt?.toISOString() ?? null,
    deliveryCount: deadLetter.deliveryCount ?? null,
    reason: deadLetter.reason ?? null,
    description: deadLetter.description ?? null,
    image: imageOf(deadLetter) ?? null,
    registry: registryOf(deadLetter) ?? null,
  };
}

export function deadLetterDetailJson(deadLetter: DeadLetter) {
  const body = bodyView(deadLetter.body);
  return {
    ...deadLetterSummaryJson(deadLetter),
    subject: deadLetter.subject ?? null,
    contentType: deadLetter.contentType ?? null,
    correlationId: deadLetter.correlationId ?? null,
    applicationProperties: Object.fromEntries(
      Object.entries(deadLetter.applicationProperties).map(([name, value]) => [name, jsonValue(value)]),
    ),
    bodyEncoding: body.encoding,
    body: body.value,
  };
}

export function renderDeadLetterDetail(deadLetter: DeadLetter): string {
  const detail = deadLetterDetailJson(deadLetter);
  const field = (name: string, value: unknown) => `${`${name}:`.padEnd(16)}${value ?? "-"}`;
  const properties = Object.entries(detail.applicationProperties).map(
    ([name, value]) => `  ${name}: ${typeof value === "string" ? value : JSON.stringify(value)}`,
  );
  return [
    field("sequence", detail.sequenceNumber),
    field("message id", detail.messageId),
    field("enqueued", formatTime(deadLetter.enqueuedAt)),
    field("deliveries", detail.deliveryCount),
    field("reason", detail.reason),
    field("description", detail.description),
    field("subject", detail.subject),
    field("content type", detail.contentType),
    field("correlation id", detail.correlationId),
    field("image", detail.image),
    "properties:",
    ...(properties.length > 0 ? properties : ["  -"]),
    `body (${detail.bodyEncoding}):`,
    detail.bodyEncoding === "json" ? JSON.stringify(detail.body, null, 2) : String(detail.body),
  ].join("\n");
}

function reasonGroupJson(group: ReasonGroup) {
  return {
    reason: group.reason,
    count: group.count,
    oldestEnqueuedAt: group.oldest?.toISOString() ?? null,
    newestEnqueuedAt: group.newest?.toISOString() ?? null,
  };
}

function age(date: Date | undefined, now: Date): string {
  return date === undefined ? "-" : `${formatAge(now.getTime() - date.getTime())} ago`;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Bodies the SDK could not decode as JSON arrive as bytes: show text when they are text. */
function bodyView(body: unknown): { encoding: "json" | "text" | "base64"; value: unknown } {
  if (!(body instanceof Uint8Array))
    return { encoding: typeof body === "string" ? "text" : "json", value: jsonValue(body) };
  try {
    return { encoding: "text", value: utf8.decode(body) };
  } catch {
    return { encoding: "base64", value: Buffer.from(body).toString("base64") };
  }
}

/** Values JSON cannot carry as they are: 64-bit integers, times, bytes. */
function jsonValue(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  if (Array.isArray(value)) return value.map(jsonValue);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, member]) => [key, jsonValue(member)]));
  }
  return value ?? null;
}
