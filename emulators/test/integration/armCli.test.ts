/** `npm run emulators` as a process: the ARM line's URL and certificate work with the SDK. */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { ContainerInstanceManagementClient } from "@azure/arm-containerinstance";
import { afterEach, describe, expect, it } from "vitest";

const bin = fileURLToPath(new URL("../../src/bin.ts", import.meta.url));
const SUBSCRIPTION = "ed6a948b-ba01-4eea-9471-c147cad379eb";
const children: ChildProcess[] = [];
const dirs: string[] = [];

function run(args: string[]) {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  const lines: string[] = [];
  const errors: string[] = [];
  createInterface({ input: child.stdout }).on("line", (line) => lines.push(line));
  createInterface({ input: child.stderr }).on("line", (line) => errors.push(line));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const armLine = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on("line", (line) => {
      if (line.startsWith("arm: ")) resolve(line);
    });
    child.once("exit", () => reject(new Error(`exited before printing the arm line: ${errors.join("\n")}`)));
  });
  // Awaited only by tests that expect the line; a test that expects an early exit leaves it.
  armLine.catch(() => {});
  return { child, lines, errors, exited, armLine };
}

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe("npm run emulators: the local ARM endpoint", () => {
  it("prints arm: <url>, writes its certificate, and serves the default inventory to the SDK", async () => {
    const dir = await mkdtemp(join(tmpdir(), "qcs-arm-cli-"));
    dirs.push(dir);
    const caFile = join(dir, "ca.pem");
    const emulators = run([
      "--servicebus-port",
      "0",
      "--eventhubs-port",
      "0",
      "--arm-port",
      "0",
      "--arm-ca-file",
      caFile,
    ]);
    const line = await emulators.armLine;
    expect(line).toMatch(/^arm: https:\/\/127\.0\.0\.1:\d+$/);
    const client = new ContainerInstanceManagementClient(
      { getToken: async () => ({ token: "any", expiresOnTimestamp: Date.now() + 60_000 }) },
      SUBSCRIPTION,
      { endpoint: line.slice("arm: ".length), tlsOptions: { ca: await readFile(caFile, "utf8") } },
    );
    expect(
      (await client.containerGroups.get("rg-payments-prod", "ci-invoice-worker")).containers,
    ).toHaveLength(2);
    expect(emulators.errors).toContain(
      `arm: certificate in ${caFile} (ARM_CA_FILE); any bearer token is accepted (ARM_TOKEN)`,
    );
    emulators.child.kill("SIGTERM");
    expect(await emulators.exited).toBe(0);
  });

  it("exits 2 naming the problem when the inventory cannot be read", async () => {
    const emulators = run([
      "--servicebus-port",
      "0",
      "--eventhubs-port",
      "0",
      "--arm-port",
      "0",
      "--inventory",
      "/no/such/file.json",
    ]);
    expect(await emulators.exited).toBe(2);
    expect(emulators.errors.join("\n")).toContain("cannot read inventory /no/such/file.json");
    expect(emulators.lines).toEqual([]);
  });

  it("with --only arm starts the ARM endpoint alone, its certificate valid for --arm-cert-name", async () => {
    const dir = await mkdtemp(join(tmpdir(), "qcs-arm-cli-"));
    dirs.push(dir);
    const caFile = join(dir, "ca.pem");
    const emulators = run(["--only", "arm", "--arm-cert-name", "arm.qcs.internal", "--arm-ca-file", caFile]);
    const url = new URL((await emulators.armLine).slice("arm: ".length));
    const ca = await readFile(caFile, "utf8");
    // What a container reaching it as arm.qcs.internal sees: the name is checked against the certificate.
    const statusAs = (servername: string) =>
      new Promise<number | string>((resolve) => {
        request({ host: url.hostname, port: url.port, path: "/", ca, servername }, (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        })
          .on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message))
          .end();
      });
    expect(await statusAs("arm.qcs.internal")).toBeTypeOf("number");
    expect(await statusAs("other.qcs.internal")).toBe("ERR_TLS_CERT_ALTNAME_INVALID");
    expect(emulators.lines.filter((line) => !line.startsWith("arm: "))).toEqual([]);
    emulators.child.kill("SIGTERM");
    expect(await emulators.exited).toBe(0);
  });

  it("refuses --only with an emulator it does not have, naming the choices", async () => {
    const emulators = run(["--only", "arm,cosmos"]);
    expect(await emulators.exited).not.toBe(0);
    expect(emulators.errors.join("\n")).toContain(
      "unknown emulator cosmos; choose from servicebus, eventhubs, arm, registry",
    );
  });
});
