/** `scanctl dlq purge`: remove selected dead letters for good. */
import type { Command } from "commander";
import { usageError } from "../core/cliError.ts";
import type { ScanctlContext } from "./context.ts";
import { type OperationOptions, runDeadLetterOperation } from "./dlqOperation.ts";
import { addFilterOptions, collect, entityOption, jsonOption, peekLimitOption } from "./options.ts";

export function registerDlqPurge(dlq: Command, context: ScanctlContext): void {
  addFilterOptions(
    dlq
      .command("purge")
      .description("remove the selected dead letters for good and list what was removed (needs --yes)")
      .addOption(entityOption())
      .option(
        "--seq <sequenceNumber>",
        "a dead letter's sequence number (repeatable, or comma-separated)",
        collect,
      ),
  )
    .option("--all", "every dead letter of the entity")
    .option("--yes", "confirm: the removed dead letters cannot be recovered")
    .option("--dry-run", "show what would be removed; change nothing")
    .addOption(peekLimitOption())
    .addOption(jsonOption())
    .action((options: OperationOptions & { yes?: boolean }) => {
      if (!options.yes && !options.dryRun) {
        throw usageError(
          "purge removes dead letters for good: add --yes to confirm, or --dry-run to see what it would remove",
        );
      }
      return runDeadLetterOperation(context, "purge", options);
    });
}
