/**
 * Errors scanctl reports: one line each, with a stable code and the exit status it maps to
 * (0 success, 1 operational failure, 2 usage error). Details (a cause's stack, a service's
 * answer) are printed only with `--verbose`.
 */

export const EXIT_CODE = { ok: 0, failure: 1, usage: 2 } as const;
export type ExitCode = (typeof EXIT_CODE)[keyof typeof EXIT_CODE];

/**
 * - `USAGE`: flags or arguments that do not make sense together or do not parse.
 * - `CONFIG`: a setting the command needs is missing or invalid.
 * - `NOT_FOUND`: the thing asked for (a dead letter, an image) does not exist.
 * - `UNAVAILABLE`: a service could not be reached or refused the request.
 * - `INPUT`: some input files were unusable (the rest were processed).
 * - `INCOMPLETE`: an operation stopped part-way; what was done and what was not is printed.
 * - `UNCOVERED`: running images are stale, failing or never scanned (`coverage`, to gate a pipeline).
 */
export type CliErrorCode =
  | "USAGE"
  | "CONFIG"
  | "NOT_FOUND"
  | "UNAVAILABLE"
  | "INPUT"
  | "INCOMPLETE"
  | "UNCOVERED";

const EXIT_BY_CODE: Readonly<Record<CliErrorCode, ExitCode>> = {
  USAGE: EXIT_CODE.usage,
  CONFIG: EXIT_CODE.usage,
  NOT_FOUND: EXIT_CODE.failure,
  UNAVAILABLE: EXIT_CODE.failure,
  INPUT: EXIT_CODE.failure,
  INCOMPLETE: EXIT_CODE.failure,
  UNCOVERED: EXIT_CODE.failure,
};

export class CliError extends Error {
  override readonly name = "CliError";
  readonly code: CliErrorCode;
  readonly exitCode: ExitCode;
  /** Extra lines shown with --verbose. */
  readonly details: readonly string[];
  constructor(code: CliErrorCode, message: string, options: { cause?: unknown; details?: string[] } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.exitCode = EXIT_BY_CODE[code];
    this.details = options.details ?? [];
  }
}

export function isCliError(error: unknown): error is CliError {
  return error instanceof Error && error.name === "CliError";
}

export const usageError = (message: string): CliError => new CliError("USAGE", message);
