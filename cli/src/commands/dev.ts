/**
 * `scanctl dev` (what `npm start` runs): the whole pipeline on this machine without Docker.
 * Options only; the work is in `../dev/`.
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type Command, InvalidArgumentError, Option } from "commander";
import { parentGone } from "../dev/adapters/processes/parentWatch.ts";
import { DEFAULT_PORTS, type DevPorts, PORT_SETTINGS } from "../dev/core/portPlan.ts";
import type { ScanctlContext } from "./context.ts";
import { positiveInteger } from "./options.ts";

const EXAMPLES = join(resolve(dirname(fileURLToPath(import.meta.url)), "../../.."), "examples");

interface DevCommandOptions {
  once?: boolean;
  json?: boolean;
  sweep: boolean;
  persist?: boolean;
  inventory: string;
  armFaults?: string;
  events: string[];
  timeout: number;
  dataDir: string;
  [portOption: string]: unknown;
}

export function registerDev(program: Command, context: ScanctlContext): void {
  const command = program
    .command("dev")
    .description(
      "run the whole pipeline on this machine without Docker (npm start): Azurite, the Service Bus, Event Hubs " +
        "and ARM emulators, the qscanner simulator and the three services; replay example events, follow them " +
        "to their scans and dead letters, print a summary",
    )
    .option(
      "--once",
      "exit when the events are fully processed (0), or after --timeout naming what is left (1)",
    )
    .option("--json", "print the summary as one JSON line on stdout (logs go to stderr)")
    .option(
      "--no-sweep",
      "skip the sweep that follows the replay (it lists the inventory through Resource Graph, fills Workloads and requests every image no event named)",
    )
    .option(
      "--persist",
      "keep Azurite's data (scan records: a rerun skips cached scans) in <data-dir>/azurite and Service Bus's messages (queued, scheduled, dead-lettered) in <data-dir>/servicebus",
    )
    .addOption(
      new Option("--inventory <file>", "ARM resource documents the local ARM endpoint serves").default(
        join(EXAMPLES, "inventory.json"),
        "examples/inventory.json",
      ),
    )
    .option(
      "--arm-faults <file>",
      "fault rules (a JSON array) the local ARM endpoint and Resource Graph apply from the start; " +
        "change them while it runs through the /_admin/faults URL it prints",
    )
    .addOption(
      new Option("--events <path...>", "Activity Log / Event Grid JSON files or folders to replay").default(
        [join(EXAMPLES, "events")],
        "examples/events",
      ),
    )
    .addOption(
      new Option("--timeout <seconds>", "how long the replay may take to be fully processed")
        .argParser(positiveInteger(86_400))
        .default(180),
    )
    .option(
      "--data-dir <dir>",
      "ARM certificate, scanctl.env (settings for scanctl), persisted data",
      ".local/dev",
    );
  for (const setting of PORT_SETTINGS) {
    command.addOption(
      new Option(`${setting.option} <n>`, `${setting.label} (0: a free port)`)
        .argParser(port)
        .default(setting.defaultPort),
    );
  }
  command
    .addHelpText(
      "after",
      [
        "",
        "A port in use is named with the option that moves it. With QSCANNER_PATH and QUALYS_ACCESS_TOKEN (and",
        "QUALYS_POD) set, the real qscanner scans instead of the simulator. RECORDER_API_KEY sets the recorder's",
        "API key, otherwise one is generated per run; both, and the connection strings scanctl needs, are written",
        "to <data-dir>/scanctl.env while the stack runs. Other service variables (LOG_LEVEL, SCANNER_CONCURRENCY,",
        "EXCLUDE_*, ...) are passed on to the services.",
        "",
        "Examples:",
        "  npm start                          the examples, then keep running for `scanctl replay`",
        "  npm start -- --once --json         CI: exit 0 once the examples are fully processed",
        "  npm start -- --inventory exported-resources.json --events activity-log/",
      ].join("\n"),
    )
    .action(async (options: DevCommandOptions) => {
      const ports = Object.fromEntries(
        PORT_SETTINGS.map((setting) => [
          setting.key,
          options[`${setting.key}Port`] ?? DEFAULT_PORTS[setting.key],
        ]),
      ) as unknown as DevPorts;
      const output = context.output();
      // The local stack (emulators, Azurite) loads only for `scanctl dev`: other commands stay light.
      const { runDev } = await import("../dev/runDev.ts");
      await runDev(
        {
          once: options.once === true,
          json: options.json === true,
          sweep: options.sweep,
          persist: options.persist === true,
          inventory: resolve(options.inventory),
          ...(options.armFaults === undefined ? {} : { armFaults: resolve(options.armFaults) }),
          events: options.events.map((path) => resolve(path)),
          ports,
          timeoutMs: options.timeout * 1000,
          dataDir: resolve(options.dataDir),
        },
        {
          stdout: { line: (text) => context.terminal.painted("out", text), ...output.stdout },
          stderr: { line: (text) => context.terminal.painted("err", text), ...output.stderr },
          signal: AbortSignal.any([context.signal, parentGone()]),
        },
        context.environment(),
      );
    });
}

function port(value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number > 65_535) {
    throw new InvalidArgumentError("expected a port number from 0 to 65535 (0 picks a free port)");
  }
  return number;
}
