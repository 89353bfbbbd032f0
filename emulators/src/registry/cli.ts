/** The local registry's part of `npm run emulators`: it serves the images of the ARM `--inventory`. */
import type { Command } from "commander";
import { type EmulatorCommand, parsePort } from "../cli.ts";
import { readFaultFile } from "../faults/faultRules.ts";
import { startRegistryEmulator } from "./registryEmulator.ts";

export const registryCommand: EmulatorCommand = {
  name: "registry",
  addOptions(command: Command) {
    command
      .option("--registry-port <n>", "local OCI registry's HTTP port (0 picks a free port)", parsePort, 0)
      .option(
        "--registry-faults <file>",
        "fault rules (a JSON array) the registry applies from the start; " +
          "change them at run time through <registry url>/_admin/faults",
      );
  },
  async start(options, common) {
    const running = await startRegistryEmulator({
      host: common.host,
      port: options.registryPort as number,
      inventory: options.inventory as string,
      ...(options.registryFaults === undefined
        ? {}
        : { faults: await readFaultFile(options.registryFaults as string) }),
    });
    // stdout carries one endpoint line per emulator; these notes are for the person reading.
    console.error(
      `registry: images of every registry host at ${running.url}/v2/<host>/<repository>/manifests/<tag>; ` +
        `move a tag with POST ${running.url}/_admin/tags {"ref": "<image>"}; fault rules at ${running.faultsUrl}`,
    );
    return { name: "registry", endpoint: running.url, close: running.close };
  },
};
