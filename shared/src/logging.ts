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

/**
 * Keys whose values are secret whatever they contain, compared without case, `-` or `_`
 * (`Authorization`, `x-api-key`, `access_token`). pino's own `redact` paths have a fixed depth, so
 * `censorSecretKeys` walks each logged object instead.
 */
const SECRET_KEYS = new Set([
  "password",
  "token",
  "accesstoken",
  "refreshtoken",
  "apikey",
  "xapikey",
  "connectionstring",
  "authorization",
  "clientsecret",
]);

const isSecretKey = (key: string) => SECRET_KEYS.has(key.toLowerCase().replace(/[-_]/g, ""));

/**
 * `value` with the value of every secret key censored at any depth of its plain objects and arrays,
 * copied only where something was censored (most log objects come back unchanged, uncopied).
 */
function censorSecretKeys(value: unknown, ancestors: readonly object[] = []): unknown {
  if (typeof value !== "object" || value === null || ancestors.includes(value)) return value;
  const inside = [...ancestors, value];
  if (Array.isArray(value)) {
    const items = value.map((item) => censorSecretKeys(item, inside));
    return items.some((item, index) => item !== value[index]) ? items : value;
  }
  const prototype = Object.getPrototypeOf(value);
  // Class instances (errors, requests, clients) go through their serializers, censored there.
  if (prototype !== Object.prototype && prototype !== null) return value;
  let copy: Record<string, unknown> | undefined;
  for (const [key, member] of Object.entries(value)) {
    const censored = isSecretKey(key) && member !== undefined ? REDACTED : censorSecretKeys(member, inside);
    if (censored !== member) {
      copy ??= { ...value };
      copy[key] = censored;
    }
  }
  return copy ?? value;
}

const censorObject = (object: Record<string, unknown>) => censorSecretKeys(object) as Record<string, unknown>;

/** pino's error serializer, whose output (own properties of the error included) is censored as a plain object. */
function censorError(error: unknown): unknown {
  const serialized: unknown = pino.stdSerializers.err(error as Error);
  return serialized !== error && typeof serialized === "object" && serialized !== null
    ? censorSecretKeys({ ...serialized })
    : serialized;
}

/** Where every logger of the process also hands its lines, once log export is on (`forwardLogLines`). */
let forwardLine: ((line: string) => void) | undefined;

/**
 * Hands every line any logger of this process writes from now on, redacted, to `sink` as well
 * (OpenTelemetry log export; see logBridge.ts), until called again (`undefined` stops it).
 * Synchronous, inside the logging call, so the sink sees the caller's trace context.
 */
export function forwardLogLines(sink: ((line: string) => void) | undefined): void {
  forwardLine = sink;
}

export function createLogger(options: CreateLoggerOptions): Logger {
  const redactor = options.redactor ?? secretRedactor;
  const format = options.format ?? (process.stdout.isTTY ? "pretty" : "json");
  const loggerOptions: LoggerOptions = {
    name: options.name,
    level: options.level ?? "info",
    base: { service: options.name },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { log: censorObject },
    serializers: { err: censorError },
    // Serialized requests are class instances to the walk above.
    redact: { paths: ["req.headers.authorization", 'req.headers["x-api-key"]'], censor: REDACTED },
    hooks: {
      streamWrite: (line) => {
        const redacted = redactor.redact(line);
        forwardLine?.(redacted);
        return redacted;
      },
    },
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
  const logger = pino(loggerOptions, destination);
  // pino's bindings formatter sees the root's bindings only; children inherit this `child`.
  const child = logger.child;
  logger.child = function censoredChild(this: Logger, bindings, childOptions) {
    return child.call(this, censorObject(bindings), childOptions);
  } as typeof logger.child;
  return logger;
}
