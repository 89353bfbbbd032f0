/** `scanctl rescan <image...>`: enqueue manual scan requests. */
import { randomUUID } from "node:crypto";
import type { Command } from "commander";
import { manualScanRequest } from "../core/rescan.ts";
import type { ScanctlContext } from "./context.ts";
import { jsonOption } from "./options.ts";

export function registerRescan(program: Command, context: ScanctlContext): void {
  program
    .command("rescan")
    .description("ask for a scan of one or more images (a ScanRequested on scan-requests)")
    .argument(
      "<image...>",
      "image references as deployed, e.g. nginx:1.27 or myacr.azurecr.io/app@sha256:...",
    )
    .option(
      "--force",
      "scan even if scanned recently, and even if requested within the duplicate-detection window",
    )
    .option("--reason <text>", "why, recorded in the request's source")
    .addOption(jsonOption())
    .addHelpText(
      "after",
      "\nWithout --force, Service Bus drops a request for an image already requested within the queue's\n" +
        "duplicate-detection window, and the scanner skips an image scanned within SCAN_CACHE_HOURS.",
    )
    .action(async (images: string[], options: { force?: boolean; reason?: string; json?: boolean }) => {
      // Validate every reference before sending any.
      const messages = images.map((image) =>
        manualScanRequest({
          image,
          force: options.force === true,
          requestId: randomUUID(),
          requestedAt: context.now(),
          requestedBy: context.operator(),
          reason: options.reason,
        }),
      );
      const sender = context.scanRequestSender();
      const sent = [];
      for (const message of messages) {
        await sender.send(message);
        sent.push({
          image: message.body.image.ref,
          requestId: message.body.requestId,
          messageId: message.messageId,
          force: message.body.force,
        });
        if (!options.json) {
          context.terminal.out(
            `requested ${message.body.image.ref}${message.body.force ? " (forced)" : ""}: request ${message.body.requestId}`,
          );
        }
      }
      if (options.json) context.terminal.json({ requested: sent });
    });
}
