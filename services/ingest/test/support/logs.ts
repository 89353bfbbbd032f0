// A real pino logger (the shared one) whose JSON lines the test can read back.
import { Writable } from "node:stream";
import { createLogger, type Logger } from "@qcs/shared/runtime";

export interface CapturedLogs {
  logger: Logger;
  lines: Record<string, unknown>[];
  /** Lines whose `msg` contains `text`. */
  find(text: string): Record<string, unknown>[];
}

export function captureLogs(level: "debug" | "info" | "warn" = "debug"): CapturedLogs {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n")) if (line.trim()) lines.push(JSON.parse(line));
      done();
    },
  });
  const logger = createLogger({ name: "ingest-test", level, format: "json", destination });
  return { logger, lines, find: (text) => lines.filter((line) => String(line.msg).includes(text)) };
}
