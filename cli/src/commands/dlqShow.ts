/** `scanctl dlq show <sequenceNumber>`: one dead letter in full. */
import type { Command } from "commander";
import { CliError, usageError } from "../core/cliError.ts";
import { type DeadLetterEntity, parseSequenceNumber } from "../core/deadLetters.ts";
import { deadLetterDetailJson, renderDeadLetterDetail } from "../core/deadLetterViews.ts";
import type { ScanctlContext } from "./context.ts";
import { entityOption, jsonOption } from "./options.ts";

export function registerDlqShow(dlq: Command, context: ScanctlContext): void {
  dlq
    .command("show")
    .description("one dead letter: body, properties, reason and description (peeks: changes nothing)")
    .argument("<sequenceNumber>", "as `dlq list` shows it")
    .addOption(entityOption())
    .addOption(jsonOption())
    .action(async (text: string, options: { entity: DeadLetterEntity; json?: boolean }) => {
      let sequenceNumber: bigint;
      try {
        sequenceNumber = parseSequenceNumber(text);
      } catch {
        throw usageError(`expected a sequence number (a whole number), got "${text}"`);
      }
      const queue = context.deadLetterQueue(options.entity);
      const deadLetter = await queue.peekOne(sequenceNumber);
      if (deadLetter === undefined) {
        throw new CliError(
          "NOT_FOUND",
          `no dead letter with sequence number ${sequenceNumber} in ${queue.path}`,
        );
      }
      if (options.json) context.terminal.json(deadLetterDetailJson(deadLetter));
      else context.terminal.out(renderDeadLetterDetail(deadLetter));
    });
}
