/**
 * Structured logging with pino: JSON lines in production, readable lines on a terminal. Every line
 * passes through the secret redactor after serialisation, so a secret inside an error message, a
 * stack trace or a nested object is removed as surely as one under a known key.
 */
import pino, { type DestinationStream, type Logger, type LoggerOptions } from "pino";
import pretty from "pino-pretty";
import type { LogFormat, LogLevel } from "./logLevels.ts";
import { REDACTED, type SecretRedactor, secretRedactor } from "./redact.ts";

export type { Logger } from "pino";

export interface CreateLoggerOptions {
  /** Service or tool name, on every line as `service`. */
  name: string;
  /** Default: `info`. */
  level?: LogLevel;
  /** Default: `pretty` when stdout is a terminal, `json` otherwise. */
  format?: LogFormat;
  /** Default: stdout. Tests pass a stream to read the lines back. */
  destination?: DestinationStream;
  /** Default: the process-wide redactor that configuration registers secrets with. */
  redactor?: SecretRedactor;
}

/** Keys whose values are secret whatever they contain. */
const SECRET_KEY_PATHS = [
  "password",
  "token",
  "accessToken",
  "apiKey",
  "connectionString",
  "authorization",
  "*.password",
  "*.token",
  "*.accessToken",
  "*.apiKey",
  "*.connectionString",
  "*.authorization",
  "headers.authorization",
  "req.headers.authorization",
  'req.headers["x-api-key"]',
];

export function createLogger(options: CreateLoggerOptions): Logger {
  const redactor = options.redactor ?? secretRedactor;
  const format = options.format ?? (process.stdout.isTTY ? "pretty" : "json");
  const loggerOptions: LoggerOptions = {
    name: options.name,
    level: options.level ?? "info",
    base: { service: options.name },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: SECRET_KEY_PATHS, censor: REDACTED },
    hooks: { streamWrite: (line) => redactor.redact(line) },
  };
  const destination =
    options.destination ??
    (format === "pretty"
      ? pretty({
          sync: true,
          colorize: true,
          ignore: "pid,hostname,service",
          translateTime: "SYS:HH:MM:ss.l",
        })
      : // Synchronous writes: a crash never loses the lines that explain it.
        pino.destination({ dest: 1, sync: true }));
  return pino(loggerOptions, destination);
}
