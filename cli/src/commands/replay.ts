/**
 * `scanctl replay <file|folder|->...`: send Activity Log and Event Grid JSON to the Event Hub, as
 * Azure would, to try a deployment locally or to backfill. Unusable files are named and skipped;
 * the rest are sent; the exit status is 1 if any was skipped.
 */
import type { Command } from "commander";
import { CliError } from "../core/cliError.ts";
import { parseReplayInput, type ReplayBody, replayTotals } from "../core/replayInput.ts";
import type { ScanctlContext } from "./context.ts";
import { jsonOption } from "./options.ts";

interface FileResult {
  name: string;
  events: number;
  error?: string;
}

export function registerReplay(program: Command, context: ScanctlContext): void {
  program
    .command("replay")
    .description("send Activity Log or Event Grid JSON files to the Event Hub the ingest service reads")
    .argument("<path...>", "files, folders (their .json/.jsonl files) or - for standard input")
    .option("--dry-run", "read and check the files, send nothing")
    .addOption(jsonOption())
    .addHelpText(
      "after",
      '\nAccepted: Activity Log bodies ({"records": [...]}) or JSON Lines of records; Event Grid events and\n' +
        "CloudEvents, one or an array. Each Event Grid event or CloudEvent becomes one Event Hub event,\n" +
        "each Activity Log body one event (split in halves when too large).",
    )
    .action(async (paths: string[], options: { dryRun?: boolean; json?: boolean }) => {
      const { terminal } = context;
      const files: FileResult[] = [];
      const bodies: ReplayBody[] = [];
      for await (const input of context.replayInputs().read(paths)) {
        if ("error" in input) {
          files.push({ name: input.name, events: 0, error: input.error });
          terminal.err(`skipped ${input.name}: ${input.error}`);
          continue;
        }
        const parsed = parseReplayInput(input.text);
        if (!parsed.ok) {
          files.push({ name: input.name, events: 0, error: parsed.reason });
          terminal.err(`skipped ${input.name}: ${parsed.reason}`);
          continue;
        }
        files.push({ name: input.name, events: parsed.bodies.length });
        bodies.push(...parsed.bodies);
      }

      const totals = replayTotals(bodies);
      let eventHub: string | undefined;
      let sent = 0;
      if (!options.dryRun && bodies.length > 0) {
        const target = context.eventSender();
        eventHub = target.eventHub;
        const progress = terminal.progress("sending", bodies.length, !options.json);
        sent = await target.sender.send(bodies, (count) => progress.update(Math.min(count, bodies.length)));
        progress.stop();
      }

      const skipped = files.filter((file) => file.error !== undefined);
      if (options.json) {
        terminal.json({
          dryRun: options.dryRun === true,
          eventHub: eventHub ?? null,
          sent,
          activityLogRecords: totals.activityLogRecords,
          eventGridEvents: totals.eventGridEvents,
          cloudEvents: totals.cloudEvents,
          files,
        });
      } else {
        const what = `${totals.activityLogRecords} Activity Log record(s), ${totals.eventGridEvents} Event Grid event(s), ${totals.cloudEvents} CloudEvent(s)`;
        terminal.out(
          options.dryRun
            ? `would send ${totals.events} event(s) from ${files.length - skipped.length} file(s): ${what}`
            : `sent ${sent} event(s) to ${eventHub ?? "the Event Hub"} from ${files.length - skipped.length} file(s): ${what}`,
        );
      }
      if (skipped.length > 0) {
        throw new CliError(
          "INPUT",
          `${skipped.length} of ${files.length} input(s) skipped: ${skipped.map((file) => file.name).join(", ")}`,
        );
      }
    });
}
