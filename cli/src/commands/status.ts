/** `scanctl status`: queue depths and the time of the last recorded scan. */
import type { Command } from "commander";
import { CliError, isCliError } from "../core/cliError.ts";
import { type LastScan, renderStatus, statusJson } from "../core/statusView.ts";
import type { ScanctlContext } from "./context.ts";
import { jsonOption } from "./options.ts";

export function registerStatus(program: Command, context: ScanctlContext): void {
  program
    .command("status")
    .description(
      "active, scheduled and dead-lettered messages of scan-requests, scan-requests-sweep and the recorder subscription, and the last recorded scan",
    )
    .addOption(jsonOption())
    .action(async (options: { json?: boolean }) => {
      const [counts, lastScan] = await Promise.all([
        context.entityCounts().counts(),
        lastRecordedScan(context),
      ]);
      if (options.json) context.terminal.json(statusJson(counts, lastScan));
      else context.terminal.out(renderStatus(counts, lastScan, context.now()));
      if (lastScan.state === "unavailable") {
        throw new CliError("UNAVAILABLE", `the recorder could not be asked: ${lastScan.reason}`);
      }
    });
}

async function lastRecordedScan(context: ScanctlContext): Promise<LastScan> {
  if (!context.hasRecorder()) return { state: "not-configured" };
  try {
    const stats = await context.recorder().stats();
    return { state: "known", at: stats.lastScanAt };
  } catch (error) {
    if (!isCliError(error)) throw error;
    return { state: "unavailable", reason: error.message };
  }
}
