/**
 * The durable broker's journal, without file I/O: the records (one JSON object per line), parsing
 * a journal's text (a torn last line is tolerated, anything else wrong is an error naming the file),
 * and replaying records into the state a broker restarts from.
 *
 * Only what outlives a lock is journalled: a message's content, sequence number, enqueue time,
 * expiry, delivery count and deferral. Locks are not: a locked message comes back available, as on
 * a lock loss. A scheduled message is one whose enqueue time is still ahead.
 */

export const JOURNAL_FORMAT = "qcs-servicebus-journal";
export const JOURNAL_VERSION = 1;

/** A message as sent, before an entity stored it (topic-scheduled messages wait like this). */
export interface PersistedIncoming {
  /** Bare message (properties, application properties, body, footer), AMQP-encoded, base64. */
  b: string;
  /** Client message annotations, AMQP-encoded, base64; absent when none. */
  a?: string;
  /** Header: durable, priority, time to live (ms). */
  h?: boolean;
  p?: number;
  l?: number;
  /** Scheduled enqueue time the sender asked for (ms since epoch). */
  at?: number;
}

export interface PersistedMessage extends PersistedIncoming {
  /** Sequence number. */
  n: number;
  /** Enqueued time (ms since epoch); for a scheduled message, when it becomes active. */
  e: number;
  /** Expiry (ms since epoch); absent when the message never expires. */
  x?: number;
  /** Delivery count. */
  c: number;
  /** Deferred. */
  d?: true;
}

/** `s` is a message store's path (`queue`, `queue/$DeadLetterQueue`, `topic/Subscriptions/sub`...), or a topic's or queue's name for `t*` and `dup`. */
export type JournalRecord =
  | { t: "version"; format: string; version: number }
  | { t: "put"; s: string; m: PersistedMessage }
  | { t: "upd"; s: string; n: number; c: number; d?: true; b?: string }
  | { t: "del"; s: string; n: number }
  | { t: "next"; s: string; n: number }
  | { t: "tput"; s: string; n: number; m: PersistedIncoming }
  | { t: "tdel"; s: string; n: number }
  | { t: "tnext"; s: string; n: number }
  | { t: "dup"; s: string; id: string; x: number };

/** Where records go; the broker calls it on every state change. */
export interface Journal {
  append(record: JournalRecord): void;
  /** Resolves once everything appended so far is written (sends are acknowledged after it). */
  written(): Promise<void>;
}

export interface StoreState {
  /** The next sequence number to hand out. */
  next: number;
  messages: Map<number, PersistedMessage>;
}

export interface TopicState {
  next: number;
  scheduled: Map<number, PersistedIncoming>;
}

/** What a broker restarts from. */
export interface JournalState {
  stores: Map<string, StoreState>;
  topics: Map<string, TopicState>;
  /** Per queue or topic name: message id -> end of its duplicate-detection window (ms since epoch). */
  duplicates: Map<string, Map<string, number>>;
}

export class JournalError extends Error {
  override readonly name = "JournalError";
}

export const versionRecord = (): JournalRecord => ({
  t: "version",
  format: JOURNAL_FORMAT,
  version: JOURNAL_VERSION,
});

export function encodeRecord(record: JournalRecord): string {
  return JSON.stringify(record);
}

export interface ParsedJournal {
  records: JournalRecord[];
  /** Set when the last line was torn or unreadable and was dropped (a crash mid-write). */
  droppedLastLine?: string;
}

/**
 * Parses a journal's text. `file` names it in errors. An empty text is an empty journal; a first
 * line that is not this version's header, or an unreadable line before the last, is an error.
 */
export function parseJournal(text: string, file: string): ParsedJournal {
  const lines = text.split("\n");
  // A complete journal ends with a newline, so the last piece is empty; anything else was torn.
  if (lines[lines.length - 1] === "") lines.pop();
  const records: JournalRecord[] = [];
  let droppedLastLine: string | undefined;
  for (const [index, line] of lines.entries()) {
    const record = parseLine(line);
    if (!record) {
      if (index === lines.length - 1) {
        droppedLastLine = `${file}: ignored a torn or unreadable last line ${index + 1} (${line.length} bytes), probably written when the broker was killed`;
        break;
      }
      throw new JournalError(
        `${file}: line ${index + 1} is not a journal record; the data directory is damaged`,
      );
    }
    if (index === 0) checkVersion(record, file);
    records.push(record);
  }
  return droppedLastLine === undefined ? { records } : { records, droppedLastLine };
}

function parseLine(line: string): JournalRecord | undefined {
  try {
    const value = JSON.parse(line) as unknown;
    return value !== null && typeof value === "object" && typeof (value as { t?: unknown }).t === "string"
      ? (value as JournalRecord)
      : undefined;
  } catch {
    return undefined;
  }
}

function checkVersion(record: JournalRecord, file: string): void {
  if (record.t === "version" && record.format === JOURNAL_FORMAT && record.version === JOURNAL_VERSION)
    return;
  const found = record.t === "version" ? `${record.format} version ${record.version}` : "no version header";
  throw new JournalError(
    `${file} was written by an incompatible version (${found}; this broker reads ${JOURNAL_FORMAT} version ${JOURNAL_VERSION}). ` +
      "Move it away to start with an empty data directory.",
  );
}

export function emptyState(): JournalState {
  return { stores: new Map(), topics: new Map(), duplicates: new Map() };
}

/** Applies records in order. Records about messages that are gone are ignored (idempotent replay). */
export function replay(records: Iterable<JournalRecord>, state = emptyState()): JournalState {
  for (const record of records) apply(state, record);
  return state;
}

function apply(state: JournalState, record: JournalRecord): void {
  switch (record.t) {
    case "version":
      return;
    case "put": {
      const store = storeOf(state, record.s);
      store.messages.set(record.m.n, record.m);
      store.next = Math.max(store.next, record.m.n + 1);
      return;
    }
    case "upd": {
      const message = state.stores.get(record.s)?.messages.get(record.n);
      if (!message) return;
      const updated: PersistedMessage = { ...message, c: record.c, ...(record.b ? { b: record.b } : {}) };
      if (record.d) updated.d = true;
      else delete updated.d;
      state.stores.get(record.s)?.messages.set(record.n, updated);
      return;
    }
    case "del":
      state.stores.get(record.s)?.messages.delete(record.n);
      return;
    case "next": {
      const store = storeOf(state, record.s);
      store.next = Math.max(store.next, record.n);
      return;
    }
    case "tput": {
      const topic = topicOf(state, record.s);
      topic.scheduled.set(record.n, record.m);
      topic.next = Math.max(topic.next, record.n + 1);
      return;
    }
    case "tdel":
      state.topics.get(record.s)?.scheduled.delete(record.n);
      return;
    case "tnext": {
      const topic = topicOf(state, record.s);
      topic.next = Math.max(topic.next, record.n);
      return;
    }
    case "dup": {
      const ids = state.duplicates.get(record.s) ?? new Map<string, number>();
      state.duplicates.set(record.s, ids);
      ids.delete(record.id); // re-inserted: the map stays in expiry order
      ids.set(record.id, record.x);
      return;
    }
    default:
      throw new JournalError(`unknown journal record type '${(record as { t: string }).t}'`);
  }
}

function storeOf(state: JournalState, path: string): StoreState {
  const store = state.stores.get(path) ?? { next: 1, messages: new Map() };
  state.stores.set(path, store);
  return store;
}

function topicOf(state: JournalState, name: string): TopicState {
  const topic = state.topics.get(name) ?? { next: 1, scheduled: new Map() };
  state.topics.set(name, topic);
  return topic;
}
