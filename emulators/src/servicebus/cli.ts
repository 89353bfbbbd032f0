/** The Service Bus broker's part of `npm run emulators`. */
import type { Command } from "commander";
import { type EmulatorCommand, parsePort } from "../cli.ts";
import { projectServiceBusConfigPath } from "./config.ts";
import { startServiceBusEmulator } from "./emulator.ts";

export const serviceBusCommand: EmulatorCommand = {
  name: "servicebus",
  addOptions(command: Command) {
    command
      .option("--servicebus-port <n>", "Service Bus AMQP port (0 picks a free port)", parsePort, 5672)
      .option(
        "--servicebus-admin-port <n>",
        "also serve the management API's runtime counts over HTTP on this port (scanctl status; Microsoft's emulator uses 5300)",
        parsePort,
      )
      .option(
        "--servicebus-config <file>",
        "Service Bus entities, in the Config.json format of Microsoft's Service Bus emulator",
        projectServiceBusConfigPath,
      )
      .option(
        "--data-dir <dir>",
        "keep Service Bus messages (active, scheduled, deferred, dead-lettered), sequence numbers and duplicate detection in DIR across restarts and crashes (default: in memory)",
      );
  },
  async start(options, common, report) {
    const running = await startServiceBusEmulator({
      host: common.host,
      port: options.servicebusPort as number,
      config: options.servicebusConfig as string,
      ...(options.servicebusAdminPort === undefined
        ? {}
        : { adminPort: options.servicebusAdminPort as number }),
      ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir as string }),
      onError: report,
    });
    return { name: "servicebus", endpoint: running.connectionString, close: running.close };
  },
};
