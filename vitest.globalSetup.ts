/**
 * Once per run of the integration project: one Azurite for every file (each file claims an account
 * of its own through `sharedAzurite()` from `@qcs/test-support/azurite`).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { azuriteAccount, startAzurite } from "./emulators/src/azurite/azurite.ts";

/** More than the suite claims (one or two per file that uses storage); each costs Azurite nothing. */
const ACCOUNTS = 200;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const claims = await mkdtemp(join(tmpdir(), "qcs-azurite-accounts-"));
  const names = Array.from({ length: ACCOUNTS }, (_, n) => `test${n + 1}`);
  const azurite = await startAzurite({ accounts: names });
  const origin = (url: string) => new URL(url).origin;
  const origins = {
    blob: origin(azurite.blobUrl),
    queue: origin(azurite.queueUrl),
    table: origin(azurite.tableUrl),
  };
  project.provide("azurite", {
    accounts: names.map((name) => ({ name, ...azuriteAccount(origins, name) })),
    claims,
  });
  return async () => {
    await azurite.stop();
    await rm(claims, { recursive: true, force: true });
  };
}
