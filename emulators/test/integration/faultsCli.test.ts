/**
 * Fault injection from outside the process, as a person testing their deployment uses it:
 * `npm run emulators -- --arm-faults <file> --registry-faults <file>`, then `/_admin/faults`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const bin = fileURLToPath(new URL("../../src/bin.ts", import.meta.url));
const SUBSCRIPTION = "ed6a948b-ba01-4eea-9471-c147cad379eb";
const JOB = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-checkout-prod/providers/Microsoft.App/jobs/caj-nightly-reconcile`;
const RESOURCE_GRAPH = "/providers/Microsoft.ResourceGraph/resources";

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

describe("npm run emulators with fault files and the admin endpoint", () => {
  let dir: string;
  let child: ChildProcess;
  let arm: string;
  let registry: string;
  let ca: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "qcs-faults-cli-"));
    await writeFile(
      join(dir, "arm.json"),
      JSON.stringify([{ path: RESOURCE_GRAPH, status: 429, retryAfterSeconds: 30, times: 1 }]),
    );
    await writeFile(join(dir, "registry.json"), JSON.stringify([{ path: "/v2/", status: 503, times: 1 }]));
    child = spawn(
      process.execPath,
      [
        bin,
        "--only",
        "arm,registry",
        "--arm-ca-file",
        join(dir, "ca.pem"),
        "--arm-faults",
        join(dir, "arm.json"),
        "--registry-faults",
        join(dir, "registry.json"),
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const endpoints = new Map<string, string>();
    const errors: string[] = [];
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on("line", (line) => errors.push(line));
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
        const [name = "", endpoint = ""] = line.split(": ");
        endpoints.set(name, endpoint);
        if (endpoints.size === 2) resolve();
      });
      child.once("exit", () =>
        reject(new Error(`exited before printing its endpoints: ${errors.join("\n")}`)),
      );
    });
    arm = endpoints.get("arm") ?? "";
    registry = endpoints.get("registry") ?? "";
    ca = await readFile(join(dir, "ca.pem"), "utf8");
  });

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  });

  function armCall(method: string, path: string, body?: unknown): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { authorization: "Bearer any" };
      if (body !== undefined) headers["content-type"] = "application/json";
      request(`${arm}${path}`, { method, ca, headers }, (response) => {
        let text = "";
        response.on("data", (chunk) => {
          text += chunk;
        });
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text }),
        );
      })
        .on("error", reject)
        .end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  it("applies the fault files from the start, each rule as many times as it says", async () => {
    const query = { query: "Resources | project id" };
    const throttled = await armCall("POST", `${RESOURCE_GRAPH}?api-version=2024-04-01`, query);
    expect(throttled).toMatchObject({
      status: 429,
      headers: { "retry-after": "30", "x-ms-user-quota-resets-after": "00:00:30" },
    });
    expect((await armCall("POST", `${RESOURCE_GRAPH}?api-version=2024-04-01`, query)).status).toBe(200);
    expect((await fetch(`${registry}/v2/`)).status).toBe(503);
    expect((await fetch(`${registry}/v2/`)).status).toBe(401);
  });

  it("adds a 429 rule for one resource over HTTP, answers with it, and clears it", async () => {
    const get = () => armCall("GET", `${JOB}?api-version=2025-07-01`);
    expect((await get()).status).toBe(200);
    const added = await armCall("POST", "/_admin/faults", [
      { resourceId: JOB, status: 429, retryAfterSeconds: 5 },
    ]);
    expect(added.status).toBe(200);
    expect(JSON.parse(added.body)).toEqual({
      rules: [{ resourceId: JOB, status: 429, retryAfterSeconds: 5, remaining: null }],
    });
    for (const _ of [1, 2]) {
      const throttled = await get();
      expect(throttled).toMatchObject({ status: 429, headers: { "retry-after": "5" } });
      expect(JSON.parse(throttled.body)).toMatchObject({ error: { code: "TooManyRequests" } });
    }
    expect((await armCall("DELETE", "/_admin/faults")).status).toBe(204);
    expect((await get()).status).toBe(200);
  });

  it("refuses rules it does not understand, naming the field", async () => {
    const refused = await armCall("POST", "/_admin/faults", [{ status: "429" }]);
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body)).toEqual({
      error: "invalid fault rules",
      problems: ["[0].status: Invalid input: expected number, received string"],
    });
  });
});
