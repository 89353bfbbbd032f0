/** The Event Hubs broker's part of `npm run emulators`. */
import type { Command } from "commander";
import { type EmulatorCommand, parsePort } from "../cli.ts";
import { projectEventHubsConfigPath } from "./config.ts";
import { startEventHubsEmulator } from "./emulator.ts";

export const eventHubsCommand: EmulatorCommand = {
  name: "eventhubs",
  addOptions(command: Command) {
    command
      .option("--eventhubs-port <n>", "Event Hubs AMQP port (0 picks a free port)", parsePort, 5673)
      .option(
        "--eventhubs-config <file>",
        "Event Hubs hubs and consumer groups, in the Config.json format of Microsoft's Event Hubs emulator",
        projectEventHubsConfigPath,
      )
      .option(
        "--eventhubs-data-dir <dir>",
        "keep every partition's events in DIR across restarts and crashes (default: in memory)",
      );
  },
  async start(options, common, report) {
    const running = await startEventHubsEmulator({
      host: common.host,
      port: options.eventhubsPort as number,
      config: options.eventhubsConfig as string,
      ...(options.eventhubsDataDir === undefined ? {} : { dataDir: options.eventhubsDataDir as string }),
      onError: report,
    });
    return { name: "eventhubs", endpoint: running.connectionString, close: running.close };
  },
};
