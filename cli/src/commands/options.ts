/** Option parsers and option sets several commands share. */
import { type Command, InvalidArgumentError, Option } from "commander";
import { DEAD_LETTER_ENTITIES } from "../core/deadLetters.ts";

export function positiveInteger(max: number) {
  return (text: string): number => {
    const value = Number(text);
    if (!/^\d+$/.test(text.trim()) || value < 1 || value > max) {
      throw new InvalidArgumentError(`expected a whole number from 1 to ${max}`);
    }
    return value;
  };
}

/** Repeatable option: `--reason A --reason B`. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function entityOption(): Option {
  return new Option(
    "--entity <entity>",
    "requests: the scan-requests queue; sweep: the scan-requests-sweep queue; " +
      "results: the recorder subscription of scan-completed; " +
      "notifications: the notifications queue (webhooks that kept failing)",
  )
    .choices(DEAD_LETTER_ENTITIES)
    .default("requests");
}

export const jsonOption = () => new Option("--json", "print JSON (for scripts) instead of tables");

export const PEEK_LIMIT_DEFAULT = 10_000;
export function peekLimitOption(): Option {
  return new Option("--peek-limit <n>", "browse at most this many dead letters")
    .argParser(positiveInteger(1_000_000))
    .default(PEEK_LIMIT_DEFAULT);
}

/** --reason, --registry, --older-than (the filters of list, resubmit and purge). */
export function addFilterOptions(command: Command): Command {
  return command
    .option(
      "--reason <reason>",
      "dead-letter reason, e.g. ImageNotFound (repeatable, or comma-separated)",
      collect,
    )
    .option("--registry <host>", "registry host of the image, e.g. myacr.azurecr.io (repeatable)", collect)
    .option("--older-than <duration>", "only dead letters enqueued at least this long ago: 30m, 12h, 7d");
}
