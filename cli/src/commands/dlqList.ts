/** `scanctl dlq list`: browse a dead-letter queue (peek: nothing is locked or changed). */
import type { Command } from "commander";
import type { DeadLetterEntity } from "../core/deadLetters.ts";
import { selectDeadLetters } from "../core/deadLetters.ts";
import { deadLetterListingJson, renderDeadLetterListing } from "../core/deadLetterViews.ts";
import { filterFromFlags, type SelectionFlags } from "../core/selectionFlags.ts";
import type { ScanctlContext } from "./context.ts";
import { addFilterOptions, entityOption, jsonOption, peekLimitOption, positiveInteger } from "./options.ts";

interface ListOptions extends SelectionFlags {
  entity: DeadLetterEntity;
  limit: number;
  peekLimit: number;
  json?: boolean;
}

export function registerDlqList(dlq: Command, context: ScanctlContext): void {
  addFilterOptions(
    dlq
      .command("list")
      .description("summary by reason, then one row per dead letter (peeks: changes nothing)")
      .addOption(entityOption()),
  )
    .option("--limit <n>", "rows to show", positiveInteger(100_000), 50)
    .addOption(peekLimitOption())
    .addOption(jsonOption())
    .action(async (options: ListOptions) => {
      const filter = filterFromFlags(options);
      const queue = context.deadLetterQueue(options.entity);
      const peeked = await queue.peek({ maxMessages: options.peekLimit });
      const now = context.now();
      const listing = {
        path: queue.path,
        peeked: peeked.deadLetters.length,
        peekTruncated: peeked.truncated,
        matched: selectDeadLetters(peeked.deadLetters, filter, now),
        limit: options.limit,
      };
      if (options.json) context.terminal.json(deadLetterListingJson(listing));
      else context.terminal.out(renderDeadLetterListing(listing, now));
    });
}
