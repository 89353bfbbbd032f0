/**
 * The selection flags of `dlq resubmit` and `dlq purge`: `--seq`, `--reason`, `--registry`,
 * `--older-than` (combined with AND), or `--all`. Nothing selected is a usage error, so an
 * operation on the whole queue is always asked for explicitly.
 */
import { usageError } from "./cliError.ts";
import { type DeadLetterSelection, parseSequenceNumber } from "./deadLetters.ts";
import { parseDuration } from "./duration.ts";

export interface SelectionFlags {
  seq?: string[] | undefined;
  reason?: string[] | undefined;
  registry?: string[] | undefined;
  olderThan?: string | undefined;
  all?: boolean | undefined;
}

export function selectionFromFlags(flags: SelectionFlags): DeadLetterSelection {
  const criteria = filterFromFlags(flags);
  const hasCriteria = Object.keys(criteria).length > 0;
  if (flags.all && hasCriteria)
    throw usageError("--all selects every dead letter; drop the other filters or --all");
  if (!flags.all && !hasCriteria) {
    throw usageError("select dead letters with --seq, --reason, --registry or --older-than, or pass --all");
  }
  return criteria;
}

/** The filter flags alone (also those of `dlq list`); absent flags leave the criterion out. */
export function filterFromFlags(flags: SelectionFlags): DeadLetterSelection {
  const selection: {
    sequenceNumbers?: bigint[];
    reasons?: string[];
    registries?: string[];
    olderThanMs?: number;
  } = {};
  if (flags.seq && flags.seq.length > 0) {
    selection.sequenceNumbers = flags.seq.flatMap(splitList).map((text) => {
      try {
        return parseSequenceNumber(text);
      } catch {
        throw usageError(`--seq: expected sequence numbers (whole numbers), got "${text}"`);
      }
    });
  }
  if (flags.reason && flags.reason.length > 0) selection.reasons = flags.reason.flatMap(splitList);
  if (flags.registry && flags.registry.length > 0) selection.registries = flags.registry.flatMap(splitList);
  if (flags.olderThan !== undefined) selection.olderThanMs = parseDuration(flags.olderThan, "--older-than");
  return selection;
}

/** `--reason A,B` and `--reason A --reason B` mean the same. */
function splitList(text: string): string[] {
  return text
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}
