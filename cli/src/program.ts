/**
 * The scanctl command tree (commander). Each command lives in its own module under `commands/`
 * and registers itself here; the program only adds the options every command shares.
 */
import { Command, Option } from "commander";
import type { GlobalOptions, ScanctlContext } from "./commands/context.ts";
import { registerCoverage } from "./commands/coverage.ts";
import { registerDev } from "./commands/dev.ts";
import { registerDlq } from "./commands/dlq.ts";
import { registerNotify } from "./commands/notify.ts";
import { registerReplay } from "./commands/replay.ts";
import { registerRescan } from "./commands/rescan.ts";
import { registerScans } from "./commands/scans.ts";
import { registerStatus } from "./commands/status.ts";
import { registerSweep } from "./commands/sweep.ts";

export type CommandModule = (program: Command, context: ScanctlContext) => void;

/** Every command; a new one (such as the local stack's `dev`) is a module here. */
export const COMMANDS: readonly CommandModule[] = [
  registerStatus,
  registerDlq,
  registerRescan,
  registerReplay,
  registerScans,
  registerNotify,
  registerSweep,
  registerCoverage,
  registerDev,
];

export interface ProgramOutput {
  writeOut(text: string): void;
  writeErr(text: string): void;
}

export function buildProgram(context: ScanctlContext, output: ProgramOutput): Command {
  const program = new Command("scanctl")
    .description(
      "Operate the container image scanning pipeline: dead letters, rescans, event replays, status, scan queries.\n" +
        "Configured by the services' environment variables (see README, Operating: scanctl).",
    )
    .option("-v, --verbose", "print details of errors")
    .addOption(
      new Option(
        "--servicebus-namespace <name>",
        "Service Bus namespace (managed identity); overrides SERVICEBUS_*",
      ),
    )
    .addOption(
      new Option(
        "--eventhubs-namespace <name>",
        "Event Hubs namespace (managed identity); overrides EVENTHUBS_*",
      ),
    )
    .addOption(new Option("--queue <name>", "scan requests queue (SCAN_REQUESTS_QUEUE)"))
    .addOption(new Option("--topic <name>", "scan results topic (SCAN_COMPLETED_TOPIC)"))
    .addOption(new Option("--subscription <name>", "the recorder's subscription (RECORDER_SUBSCRIPTION)"))
    .addOption(new Option("--event-hub <name>", "the Event Hub ingest reads (EVENTHUB_NAME)"))
    .addOption(new Option("--recorder-url <url>", "the recorder's base URL (RECORDER_URL)"))
    .showHelpAfterError("(add --help for usage)")
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({ writeOut: output.writeOut, writeErr: output.writeErr })
    .addHelpText(
      "after",
      "\nExit status: 0 success, 1 operational failure (something could not be done), 2 usage or configuration error.",
    )
    .hook("preAction", (thisCommand) => context.configure(thisCommand.opts<GlobalOptions>()));
  // Subcommands copy the root's error handling and output settings when they are created.
  for (const register of COMMANDS) register(program, context);
  return program;
}
