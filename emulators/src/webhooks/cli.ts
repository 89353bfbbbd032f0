/** The webhook sink's part of `npm run emulators`: a receiver for NOTIFY_WEBHOOKS on loopback. */
import type { Command } from "commander";
import { type EmulatorCommand, parsePort } from "../cli.ts";
import { startWebhookSink } from "./webhookSink.ts";

export const webhookSinkCommand: EmulatorCommand = {
  name: "webhooks",
  addOptions(command: Command) {
    command.option("--webhooks-port <n>", "webhook sink's HTTP port (0 picks a free port)", parsePort, 0);
  },
  async start(options, common) {
    // The secret comes from the environment, as the recorder's does: never from argv.
    const running = await startWebhookSink({
      host: common.host,
      port: options.webhooksPort as number,
      ...(process.env.NOTIFY_WEBHOOK_SECRET ? { secret: process.env.NOTIFY_WEBHOOK_SECRET } : {}),
    });
    console.error(
      `webhooks: point NOTIFY_WEBHOOKS at cloudevents=${running.url}/cloudevents, teams=${running.url}/teams ` +
        `or slack=${running.url}/slack; GET ${running.url}/ lists what arrived (signatures checked with ` +
        "NOTIFY_WEBHOOK_SECRET when set)",
    );
    return { name: "webhooks", endpoint: running.url, close: running.close };
  },
};
