/**
 * How an emulator joins `npm run emulators`: it adds its own options to the command and starts from
 * them. bin.ts only lists the emulators, parses, starts each and prints one line per endpoint.
 */
import { type Command, InvalidArgumentError } from "commander";

export interface CommonOptions {
  host: string;
}

export interface StartedEmulator {
  /** e.g. `servicebus`; the printed line is `<name>: <endpoint>`. */
  name: string;
  /** What a client needs: a connection string or URL. */
  endpoint: string;
  close(): Promise<void>;
}

export interface EmulatorCommand {
  /** For `--only`, and the first word of its printed line. */
  name: string;
  addOptions(command: Command): void;
  /** `options` holds every parsed option of the command (commander's camelCase names). */
  start(
    options: Record<string, unknown>,
    common: CommonOptions,
    report: (error: Error) => void,
  ): Promise<StartedEmulator>;
}

/** commander parser for `--…-port N`: 0 picks a free port. */
export function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65_535) {
    throw new InvalidArgumentError("must be a port number from 0 to 65535 (0 picks a free port)");
  }
  return port;
}

/** commander parser for a count of at least 1. */
export function parsePositiveInteger(value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < 1 || !Number.isSafeInteger(number)) {
    throw new InvalidArgumentError("must be a whole number of at least 1");
  }
  return number;
}
