/** `scanctl notify test`: one sample of each notification type to each webhook, and what each answered. */
import { randomUUID } from "node:crypto";
import type { Command } from "commander";
import { CliError } from "../core/cliError.ts";
import { sampleNotifications } from "../core/notifySamples.ts";
import { renderTable } from "../core/table.ts";
import type { ScanctlContext } from "./context.ts";
import { collect, jsonOption } from "./options.ts";

export function registerNotify(program: Command, context: ScanctlContext): void {
  const notify = program.command("notify").description("notifications (NOTIFY_WEBHOOKS)");
  notify
    .command("test")
    .description(
      "send a sample io.qcs.findings.new and io.qcs.scan.failed to each webhook, once, and show each answer",
    )
    .option(
      "--webhook <FORMAT=URL>",
      "instead of NOTIFY_WEBHOOKS (repeatable; FORMAT: cloudevents, teams, slack). A URL on the command " +
        "line is visible to other users of this machine: prefer NOTIFY_WEBHOOKS",
      collect,
    )
    .addOption(jsonOption())
    .action(async (options: { webhook?: string[]; json?: boolean }) => {
      const { webhooks, post } = await context.webhooks(options.webhook);
      if (webhooks.length === 0) {
        throw new CliError("CONFIG", "no webhooks: set NOTIFY_WEBHOOKS (FORMAT=URL,...) or give --webhook");
      }
      const results = [];
      for (const webhook of webhooks) {
        for (const notification of sampleNotifications(randomUUID, context.now())) {
          const result = await post(webhook, notification);
          results.push({
            webhook: webhook.id,
            format: webhook.format,
            type: notification.type,
            ok: result.kind === "delivered",
            answer:
              result.kind === "unreachable"
                ? `unreachable: ${result.error}`
                : `HTTP ${result.status}${result.kind === "rejected" && result.excerpt ? ` ${result.excerpt}` : ""}`,
          });
        }
      }
      if (options.json) context.terminal.json({ results });
      else {
        context.terminal.out(
          renderTable(
            [{ header: "WEBHOOK" }, { header: "TYPE" }, { header: "ANSWER", maxWidth: 120 }],
            results.map((r) => [r.webhook, r.type, r.answer]),
          ),
        );
      }
      const failed = results.filter((r) => !r.ok).length;
      if (failed > 0) throw new CliError("UNAVAILABLE", `${failed} of ${results.length} deliveries failed`);
    });
}
