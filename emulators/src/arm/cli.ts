/** The local ARM endpoint's part of `npm run emulators`. */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { Command } from "commander";
import { type EmulatorCommand, parsePort } from "../cli.ts";
import { startArmEmulator } from "./armEmulator.ts";
import { projectArmInventoryPath } from "./inventory.ts";

export const armCommand: EmulatorCommand = {
  name: "arm",
  addOptions(command: Command) {
    command
      .option(
        "--arm-port <n>",
        "local ARM endpoint's HTTPS port (0 picks a free port; give one for a stable ARM_ENDPOINT)",
        parsePort,
        0,
      )
      .option(
        "--inventory <file>",
        "container groups, container apps and jobs the ARM endpoint serves, as ARM's GET returns them " +
          '(a JSON array or { "value": [...] })',
        projectArmInventoryPath,
      )
      .option(
        "--arm-cert-name <name>",
        "a further DNS name the ARM certificate is valid for (localhost and 127.0.0.1 always are), " +
          "e.g. the service name other containers reach it by",
      )
      .option(
        "--arm-ca-file <file>",
        "where to write the ARM endpoint's self-signed certificate, for ingest's ARM_CA_FILE",
        ".local/arm-ca.pem",
      );
  },
  async start(options, common) {
    const running = await startArmEmulator({
      host: common.host,
      port: options.armPort as number,
      inventory: options.inventory as string,
      ...(options.armCertName === undefined ? {} : { certificateName: options.armCertName as string }),
    });
    const caFile = resolve(options.armCaFile as string);
    try {
      await mkdir(dirname(caFile), { recursive: true });
      await writeFile(caFile, running.ca);
    } catch (error) {
      await running.close();
      throw new Error(`arm: cannot write the certificate to ${caFile}: ${(error as Error).message}`);
    }
    // stdout carries one endpoint line per emulator; this note is for the person reading.
    console.error(`arm: certificate in ${caFile} (ARM_CA_FILE); any bearer token is accepted (ARM_TOKEN)`);
    return { name: "arm", endpoint: running.url, close: running.close };
  },
};
