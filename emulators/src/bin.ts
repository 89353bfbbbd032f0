#!/usr/bin/env node
/**
 * `npm run emulators`: the local stand-ins for Azure, without Docker. Prints one line per endpoint
 * (`servicebus: <connection string>`, `eventhubs: <connection string>`, ...) once everything listens,
 * and runs until SIGINT/SIGTERM.
 * Each emulator contributes its options and start-up through an `EmulatorCommand`.
 */
import { Command, InvalidArgumentError } from "commander";
import { armCommand } from "./arm/cli.ts";
import type { EmulatorCommand, StartedEmulator } from "./cli.ts";
import { eventHubsCommand } from "./eventhubs/cli.ts";
import { registryCommand } from "./registry/cli.ts";
import { serviceBusCommand } from "./servicebus/cli.ts";
import { webhookSinkCommand } from "./webhooks/cli.ts";

const emulators: EmulatorCommand[] = [
  serviceBusCommand,
  eventHubsCommand,
  armCommand,
  registryCommand,
  webhookSinkCommand,
];
const names = emulators.map((emulator) => emulator.name);

function parseOnly(value: string): string[] {
  const chosen = value.split(",").map((name) => name.trim());
  const unknown = chosen.filter((name) => !names.includes(name));
  if (unknown.length > 0 || chosen.length === 0) {
    throw new InvalidArgumentError(`unknown emulator ${unknown.join(", ")}; choose from ${names.join(", ")}`);
  }
  return chosen;
}

const program = new Command("emulators")
  .description(
    "Run the local Azure stand-ins on loopback for development and tests: a Service Bus broker and an " +
      "Event Hubs broker that the official SDKs reach with the connection strings of Microsoft's emulators, " +
      "a local ARM endpoint (HTTPS) serving container groups, container apps and jobs from an inventory file " +
      "(and Resource Graph queries over them), a local OCI registry serving the manifests of their images, " +
      "and a webhook sink that receives notifications.",
  )
  .option("--host <address>", "address to listen on", "127.0.0.1")
  .option(
    "--only <names>",
    `start only these, comma-separated (${names.join(", ")}); e.g. the ARM endpoint beside Microsoft's emulators`,
    parseOnly,
  )
  .option("--json", 'print each endpoint as a JSON line: {"name":…,"endpoint":…}')
  .addHelpText(
    "after",
    "\nStops on SIGINT or SIGTERM. Example: npm run emulators -- --servicebus-port 0 --eventhubs-port 0",
  );
for (const emulator of emulators) emulator.addOptions(program);
program.parse();

const options = program.opts();
const started: StartedEmulator[] = [];
const report = (name: string) => (error: Error) => console.error(`${name}: ${error.message}`);

async function stop(code: number): Promise<never> {
  await Promise.allSettled(started.map((emulator) => emulator.close()));
  process.exit(code);
}

for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void stop(0));
try {
  const only = options.only as string[] | undefined;
  for (const emulator of emulators.filter(({ name }) => only === undefined || only.includes(name))) {
    started.push(await emulator.start(options, { host: options.host as string }, report("emulators")));
  }
} catch (error) {
  console.error((error as Error).message);
  await stop(2);
}
for (const { name, endpoint } of started) {
  console.log(options.json ? JSON.stringify({ name, endpoint }) : `${name}: ${endpoint}`);
}
