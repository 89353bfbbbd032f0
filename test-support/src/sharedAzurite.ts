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

/** What the global setup provides: the server's endpoints and the accounts it serves. */
export interface SharedAzuriteInfo {
  blob: string;
  queue: string;
  table: string;
  key: string;
  accounts: string[];
  /** Folder where a claimed account is a subfolder (mkdir is atomic across the worker processes). */
  claims: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    azurite: SharedAzuriteInfo;
  }
}

/** The same shape as `startAzurite`'s result, so a test can use either. */
export interface AzuriteAccount {
  blobUrl: string;
  queueUrl: string;
  tableUrl: string;
  ports: { blob: number; queue: number; table: number };
  connectionString: string;
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
  for (const account of shared.accounts) {
    try {
      await mkdir(join(shared.claims, account));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") continue;
      throw error;
    }
    return accountOn(shared, account);
  }
  throw new Error(
    `all ${shared.accounts.length} accounts of the shared Azurite are taken (vitest.globalSetup.ts)`,
  );
}

function accountOn(shared: SharedAzuriteInfo, account: string): AzuriteAccount {
  const blobUrl = `${shared.blob}/${account}`;
  const queueUrl = `${shared.queue}/${account}`;
  const tableUrl = `${shared.table}/${account}`;
  const port = (url: string) => Number(new URL(url).port);
  return {
    blobUrl,
    queueUrl,
    tableUrl,
    ports: { blob: port(shared.blob), queue: port(shared.queue), table: port(shared.table) },
    connectionString:
      `DefaultEndpointsProtocol=http;AccountName=${account};AccountKey=${shared.key};` +
      `BlobEndpoint=${blobUrl};QueueEndpoint=${queueUrl};TableEndpoint=${tableUrl};`,
    pid: undefined,
    stop: async () => {},
  };
}
