/** The local ARM endpoint's part of `npm run emulators`. */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import { type EmulatorCommand, parsePort, parsePositiveInteger } from "../cli.ts";
import { readFaultFile } from "../faults/faultRules.ts";
import { startArmEmulator } from "./armEmulator.ts";
import { projectArmInventoryPath } from "./inventory.ts";
import type { QuotaOptions } from "./quota.ts";

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
      )
      .option(
        "--arm-faults <file>",
        "fault rules (a JSON array) the ARM endpoint and Resource Graph apply from the start; " +
          "change them at run time through <arm url>/_admin/faults",
      )
      .option(
        "--resource-graph-page-size <n>",
        "the most rows one Resource Graph answer holds (Resource Graph: 1000)",
        parsePositiveInteger,
      )
      .option(
        "--resource-graph-quota <requests/seconds>",
        "Resource Graph's per-user quota, e.g. 15/5 as in Azure: answers carry x-ms-user-quota-* headers, " +
          "requests beyond it get 429 (default: no quota)",
        parseQuota,
      );
  },
  async start(options, common) {
    const running = await startArmEmulator({
      host: common.host,
      port: options.armPort as number,
      inventory: options.inventory as string,
      ...(options.armCertName === undefined ? {} : { certificateName: options.armCertName as string }),
      ...(options.armFaults === undefined
        ? {}
        : { faults: await readFaultFile(options.armFaults as string) }),
      ...(options.resourceGraphPageSize === undefined
        ? {}
        : { resourceGraphPageSize: options.resourceGraphPageSize as number }),
      ...(options.resourceGraphQuota === undefined
        ? {}
        : { resourceGraphQuota: options.resourceGraphQuota as QuotaOptions }),
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
    console.error(`arm: fault rules at ${running.faultsUrl} (GET, POST a JSON array, DELETE; loopback only)`);
    return { name: "arm", endpoint: running.url, close: running.close };
  },
};

function parseQuota(value: string): QuotaOptions {
  const match = /^(\d+)\/(\d+)$/.exec(value);
  const requests = Number(match?.[1]);
  const windowSeconds = Number(match?.[2]);
  if (!match || requests < 1 || windowSeconds < 1) {
    throw new InvalidArgumentError("expected <requests>/<seconds>, both at least 1, e.g. 15/5");
  }
  return { requests, windowSeconds };
}
