/** `scanctl sweep`: one sweep now, with the operator's credentials (the sweep job's own module). */
import type { Command } from "commander";
import type { ScanctlContext } from "./context.ts";
import { jsonOption } from "./options.ts";

export function registerSweep(program: Command, context: ScanctlContext): void {
  program
    .command("sweep")
    .description(
      "list every container group, app and job through Resource Graph (SWEEP_SUBSCRIPTIONS, or all the login can read), reconcile the Workloads table and request a scan of each distinct image",
    )
    .option("--dry-run", "list and plan only: write no row, send no request")
    .addOption(jsonOption())
    .action(async (options: { dryRun?: boolean; json?: boolean }) => {
      const summary = await context.sweep(options.dryRun === true);
      if (options.json) {
        context.terminal.json(summary);
        return;
      }
      context.terminal.out(
        [
          `sweep ${summary.runId}${summary.dryRun ? " (dry run: nothing written or sent)" : ""}`,
          `  subscriptions  ${summary.subscriptions.join(", ") || "(none found)"}`,
          `  workloads      ${summary.workloads} in ${summary.pages} pages (${summary.skipped} rows skipped)`,
          `  Workloads rows +${summary.inserted} new, ${summary.updated} updated, -${summary.deleted} removed`,
          `  images         ${summary.images}, requests sent ${summary.requestsSent}`,
        ].join("\n"),
      );
    });
}
