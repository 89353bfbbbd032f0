/**
 * The journal on disk: `servicebus-<namespace>.jsonl` in the data directory, replayed at start,
 * appended to in one write per event-loop turn, and rewritten as a snapshot of the live state at
 * start and whenever it has grown past a bound. Writes are not fsync'ed one by one: what was
 * written survives the broker being killed (the kernel has it), not the machine losing power.
 * A lock file keeps a second broker off the same directory.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import {
  encodeRecord,
  type Journal,
  JournalError,
  type JournalRecord,
  type JournalState,
  parseJournal,
  replay,
  versionRecord,
} from "./journal.ts";

/** Below this the journal is never compacted while running. */
const DEFAULT_COMPACT_AFTER_BYTES = 64 * 1024 * 1024;
/** Snapshot lines are written in chunks of about this size. */
const WRITE_CHUNK_BYTES = 1024 * 1024;

export interface JournalFileOptions {
  dir: string;
  namespace: string;
  /** Problems that lose nothing the broker could keep (a torn last line), for stderr. */
  report: (problem: string) => void;
  /**
   * Compact whenever the journal is larger than this (tests). Default: once it outgrows 64 MiB or
   * twice its last snapshot, whichever is larger.
   */
  compactAfterBytes?: number;
}

export class JournalFile implements Journal {
  readonly file: string;
  readonly #lockFile: string;
  readonly #report: (problem: string) => void;
  readonly #compactAfterBytes: number | undefined;
  #fd: number | undefined;
  #pending: string[] = [];
  #flushScheduled: NodeJS.Immediate | undefined;
  #waiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  #bytes = 0;
  #threshold = 0;
  #snapshot: (() => Iterable<JournalRecord>) | undefined;
  #closed = false;

  /** Locks the directory and reads the journal; `start` then makes it the live journal. */
  static open(options: JournalFileOptions): { journal: JournalFile; state: JournalState } {
    const journal = new JournalFile(options);
    try {
      return { journal, state: journal.#read() };
    } catch (error) {
      journal.#unlock();
      throw error;
    }
  }

  private constructor(options: JournalFileOptions) {
    mkdirSync(options.dir, { recursive: true });
    this.file = join(options.dir, `servicebus-${options.namespace}.jsonl`);
    this.#lockFile = `${this.file}.lock`;
    this.#report = options.report;
    this.#compactAfterBytes = options.compactAfterBytes;
    this.#lock();
  }

  /** Rewrites the journal as `snapshot()` (the restored state) and appends from here on. */
  start(snapshot: () => Iterable<JournalRecord>): void {
    this.#snapshot = snapshot;
    this.#compact();
  }

  append(record: JournalRecord): void {
    if (this.#closed) return;
    this.#pending.push(encodeRecord(record));
    this.#flushScheduled ??= setImmediate(() => this.#flush());
  }

  written(): Promise<void> {
    if (this.#pending.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Writes what is pending and releases the directory. */
  close(): void {
    if (this.#closed) return;
    this.#flush();
    this.#closed = true;
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    this.#unlock();
  }

  #read(): JournalState {
    if (!existsSync(this.file)) return replay([]);
    const { records, droppedLastLine } = parseJournal(readFileSync(this.file, "utf8"), this.file);
    if (droppedLastLine) this.#report(droppedLastLine);
    try {
      return replay(records);
    } catch (error) {
      throw new JournalError(`${this.file}: ${(error as Error).message}`);
    }
  }

  #flush(): void {
    if (this.#flushScheduled) clearImmediate(this.#flushScheduled);
    this.#flushScheduled = undefined;
    const waiters = this.#waiters;
    this.#waiters = [];
    if (this.#pending.length > 0 && this.#fd !== undefined) {
      const text = `${this.#pending.join("\n")}\n`;
      this.#pending = [];
      try {
        this.#bytes += writeSync(this.#fd, text);
      } catch (error) {
        const failure = new Error(`${this.file}: ${(error as Error).message}`);
        this.#report(failure.message);
        for (const waiter of waiters) waiter.reject(failure);
        return;
      }
    }
    for (const waiter of waiters) waiter.resolve();
    if (this.#bytes > this.#threshold && this.#snapshot) this.#compact();
  }

  /** Snapshot to a temporary file, made durable, then renamed over the journal. */
  #compact(): void {
    const snapshot = this.#snapshot;
    if (!snapshot) return;
    const temporary = `${this.file}.tmp`;
    const fd = openSync(temporary, "w");
    let bytes = 0;
    try {
      let chunk = `${encodeRecord(versionRecord())}\n`;
      for (const record of snapshot()) {
        chunk += `${encodeRecord(record)}\n`;
        if (chunk.length >= WRITE_CHUNK_BYTES) {
          bytes += writeSync(fd, chunk);
          chunk = "";
        }
      }
      bytes += writeSync(fd, chunk);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (this.#fd !== undefined) closeSync(this.#fd);
    renameSync(temporary, this.file);
    syncDirectory(join(this.file, ".."));
    // The snapshot holds every change made so far, pending ones included.
    this.#pending = [];
    this.#fd = openSync(this.file, "a");
    this.#bytes = bytes;
    this.#threshold = this.#compactAfterBytes ?? Math.max(DEFAULT_COMPACT_AFTER_BYTES, 2 * bytes);
  }

  #lock(): void {
    try {
      writeFileSync(this.#lockFile, String(process.pid), { flag: "wx" });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = Number(readFileSync(this.#lockFile, "utf8"));
    if (Number.isInteger(holder) && holder > 0 && isRunning(holder)) {
      throw new JournalError(
        `${this.file} is in use by another broker (process ${holder}, see ${this.#lockFile})`,
      );
    }
    // Left by a broker that was killed.
    writeFileSync(this.#lockFile, String(process.pid));
  }

  #unlock(): void {
    rmSync(this.#lockFile, { force: true });
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function syncDirectory(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
