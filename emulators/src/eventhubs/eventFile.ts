/**
 * A partition's events on disk (`dataDir`, `--eventhubs-data-dir`): `<dataDir>/<hub>/<partition>.jsonl`,
 * one JSON line per event, written synchronously as the partition accepts it, before the producer
 * is told its send succeeded. So an acknowledged event survives the emulator being killed (the
 * kernel has it; not fsync'ed, so not a power loss). At start the file is read back (a line torn by
 * a kill is dropped) and rewritten with what retention still keeps, after a first line holding the
 * numbering, so sequence numbers and offsets continue where they were and ingest's checkpoints
 * stay valid.
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";
import type { WireEvent } from "./eventWire.ts";
import type { PartitionLog, StoredEvent } from "./partitionLog.ts";

interface NumberingLine {
  next: number;
  offset: number;
}

interface EventLine {
  /** Sequence number, offset, enqueued time (ms), size as received. */
  n: number;
  o: number;
  t: number;
  s: number;
  /** The stored bytes (base64) and where delivery annotations go in them. */
  b: string;
  d: number;
}

/** Restores `log` from `file` (if there is one) and keeps appending its new events to it. */
export function attachEventFile(log: PartitionLog<WireEvent>, file: string): { close(): void } {
  mkdirSync(dirname(file), { recursive: true });
  if (existsSync(file)) {
    const { events, next } = readEventFile(file);
    log.restore(events, next);
  }
  // Compact: only what retention keeps, behind the numbering.
  const kept = log.retained().map((event) => `${JSON.stringify(toLine(event))}\n`);
  const numbering: NumberingLine = { next: log.next.sequenceNumber, offset: log.next.offset };
  writeFileSync(`${file}.tmp`, `${JSON.stringify(numbering)}\n${kept.join("")}`);
  renameSync(`${file}.tmp`, file);
  const fd = openSync(file, "a");
  const unsubscribe = log.onAppend((events) => {
    writeSync(fd, events.map((event) => `${JSON.stringify(toLine(event))}\n`).join(""));
  });
  return {
    close: () => {
      unsubscribe();
      closeSync(fd);
    },
  };
}

function readEventFile(file: string): {
  events: StoredEvent<WireEvent>[];
  next: { sequenceNumber: number; offset: number };
} {
  const [first, ...rest] = readFileSync(file, "utf8").split("\n");
  const numbering = JSON.parse(first ?? "") as NumberingLine;
  const next = { sequenceNumber: numbering.next, offset: numbering.offset };
  const events: StoredEvent<WireEvent>[] = [];
  for (const text of rest) {
    let line: EventLine;
    try {
      line = JSON.parse(text) as EventLine;
    } catch {
      continue; // the empty end, or a line cut short by a kill (its send was never acknowledged)
    }
    events.push({
      sequenceNumber: line.n,
      offset: line.o,
      enqueuedTimeMs: line.t,
      size: line.s,
      payload: { bytes: Buffer.from(line.b, "base64"), deliveryAnnotationsAt: line.d },
    });
    next.sequenceNumber = line.n + 1;
    next.offset = line.o + line.s;
  }
  return { events, next };
}

function toLine(event: StoredEvent<WireEvent>): EventLine {
  return {
    n: event.sequenceNumber,
    o: event.offset,
    t: event.enqueuedTimeMs,
    s: event.size,
    b: event.payload.bytes.toString("base64"),
    d: event.payload.deliveryAnnotationsAt,
  };
}
