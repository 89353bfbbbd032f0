/**
 * Azurite (the npm package) as a child process on free loopback ports: for tests, benchmarks and
 * the local stack. Started from its entry script so the PID is ours to stop (npx would leave the
 * real server behind as a grandchild), with the lifeline preload, so it ends when its parent dies
 * however that happens.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { lifelinePath } from "../process/index.ts";

/** Azurite's well-known development account (public, documented by Microsoft; not a secret). */
export const AZURITE_ACCOUNT = "devstoreaccount1";
export const AZURITE_KEY =
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

export interface StartAzuriteOptions {
  host?: string;
  /** Default 0: a free port each. Give fixed ports to restart on the same endpoints. */
  blobPort?: number;
  queuePort?: number;
  tablePort?: number;
  /** Folder for persistent data; default: in memory. */
  location?: string;
  /** Default: 256 MiB. Bounds in-memory blob extents. */
  extentMemoryLimitMb?: number;
  /** Default: 30 s. */
  startTimeoutMs?: number;
  /**
   * More accounts, besides the well-known one, each with the well-known key: one server, isolated
   * storage per account (the tests share one Azurite this way).
   */
  accounts?: string[];
  /**
   * Run in its own process group, so that a terminal's Ctrl-C reaches only the parent, which
   * stops Azurite after the services that use it (the local stack). Default: false.
   */
  detached?: boolean;
}

/** Where one account of an Azurite is reached. */
export interface AzuriteAccountEndpoints {
  blobUrl: string;
  queueUrl: string;
  tableUrl: string;
  ports: { blob: number; queue: number; table: number };
  /** Connection string for `@azure/storage-blob` and `@azure/data-tables`. */
  connectionString: string;
}

export interface RunningAzurite extends AzuriteAccountEndpoints {
  pid: number | undefined;
  stop(): Promise<void>;
}

/** An account's endpoints on a server listening at these origins (`http://host:port`), all with the well-known key. */
export function azuriteAccount(
  origins: { blob: string; queue: string; table: string },
  account = AZURITE_ACCOUNT,
): AzuriteAccountEndpoints {
  const blobUrl = `${origins.blob}/${account}`;
  const queueUrl = `${origins.queue}/${account}`;
  const tableUrl = `${origins.table}/${account}`;
  const port = (url: string) => Number(new URL(url).port);
  return {
    blobUrl,
    queueUrl,
    tableUrl,
    ports: { blob: port(origins.blob), queue: port(origins.queue), table: port(origins.table) },
    connectionString:
      `DefaultEndpointsProtocol=http;AccountName=${account};AccountKey=${AZURITE_KEY};` +
      `BlobEndpoint=${blobUrl};QueueEndpoint=${queueUrl};TableEndpoint=${tableUrl};`,
  };
}

const LISTENING = /Azurite (Blob|Queue|Table) service is successfully listening at (http:\/\/\S+)/;

export function azuriteEntryPoint(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve("azurite/package.json")), "dist", "src", "azurite.js");
}

export async function startAzurite(options: StartAzuriteOptions = {}): Promise<RunningAzurite> {
  const host = options.host ?? "127.0.0.1";
  const args = [
    "--import",
    lifelinePath,
    azuriteEntryPoint(),
    "--disableTelemetry",
    "--skipApiVersionCheck",
    "--loose",
    "--blobHost",
    host,
    "--queueHost",
    host,
    "--tableHost",
    host,
    "--blobPort",
    String(options.blobPort ?? 0),
    "--queuePort",
    String(options.queuePort ?? 0),
    "--tablePort",
    String(options.tablePort ?? 0),
    ...(options.location
      ? ["--location", options.location]
      : ["--inMemoryPersistence", "--extentMemoryLimit", String(options.extentMemoryLimitMb ?? 256)]),
  ];
  const accounts = options.accounts?.map((name) => `${name}:${AZURITE_KEY}`).join(";");
  const child = spawn(process.execPath, args, {
    // fd 3: the lifeline (closes when this process ends).
    stdio: ["ignore", "pipe", "pipe", "pipe"],
    ...(accounts
      ? { env: { ...process.env, AZURITE_ACCOUNTS: `${AZURITE_ACCOUNT}:${AZURITE_KEY};${accounts}` } }
      : {}),
    detached: options.detached ?? false,
  });
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);

  const origins = await new Promise<{ blob: string; queue: string; table: string }>((resolve, reject) => {
    const found: Record<string, string> = {};
    const output: string[] = [];
    const timer = setTimeout(
      () => fail(new Error(`Azurite did not start within ${options.startTimeoutMs ?? 30_000} ms`)),
      options.startTimeoutMs ?? 30_000,
    );
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`${error.message}\n${output.join("\n")}`));
    };
    const onLine = (line: string) => {
      output.push(line);
      const match = LISTENING.exec(line);
      if (!match?.[1] || !match[2]) return;
      found[match[1].toLowerCase()] = match[2];
      if (found.blob && found.queue && found.table) {
        clearTimeout(timer);
        resolve({ blob: found.blob, queue: found.queue, table: found.table });
      }
    };
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", onLine);
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on("line", onLine);
    child.once("exit", (code) => fail(new Error(`Azurite exited with code ${code} before it was ready`)));
  });
  child.removeAllListeners("exit");

  return {
    ...azuriteAccount(origins),
    pid: child.pid,
    stop: () => stopChild(child, killOnExit),
  };
}

async function stopChild(child: ChildProcess, killOnExit: () => void): Promise<void> {
  process.removeListener("exit", killOnExit);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}
