/**
 * The Azurite that the repository's vitest config starts once for every integration file
 * (vitest.globalSetup.ts): each call claims an account of its own, so what a file stores is
 * invisible to every other file although they share the server. Starting an Azurite per file cost
 * ~2 s of CPU each on this 2-core machine. Tests that stop, restart or persist storage start their
 * own with `startAzurite` from `@qcs/emulators`.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { inject } from "vitest";

/** One account's endpoints, as the global setup computed them (`azuriteAccount` in the emulators). */
interface AccountEndpoints {
  blobUrl: string;
  queueUrl: string;
  tableUrl: string;
  ports: { blob: number; queue: number; table: number };
  connectionString: string;
}

/** What the global setup provides: the server's accounts. */
export interface SharedAzuriteInfo {
  accounts: Array<AccountEndpoints & { name: string }>;
  /** Folder where a claimed account is a subfolder (mkdir is atomic across the worker processes). */
  claims: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    azurite: SharedAzuriteInfo;
  }
}

/** The same shape as `startAzurite`'s result, so a test can use either. */
export interface AzuriteAccount extends AccountEndpoints {
  /** The shared server is not the test's to signal. */
  pid: undefined;
  /** Nothing to do: the server outlives the file and an account is never handed out twice. */
  stop(): Promise<void>;
}

export async function sharedAzurite(): Promise<AzuriteAccount> {
  const shared = inject("azurite");
  if (!shared) {
    throw new Error(
      "no shared Azurite: run the tests through the repository's vitest config (integration project)",
    );
  }
  for (const { name, ...account } of shared.accounts) {
    try {
      await mkdir(join(shared.claims, name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") continue;
      throw error;
    }
    return { ...account, pid: undefined, stop: async () => {} };
  }
  throw new Error(
    `all ${shared.accounts.length} accounts of the shared Azurite are taken (vitest.globalSetup.ts)`,
  );
}
