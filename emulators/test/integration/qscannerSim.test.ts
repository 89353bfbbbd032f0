import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "@qcs/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  qscannerSimulatorPath,
  type ResidentQscannerSimulator,
  startQscannerSimulator,
  startRegistryEmulator,
} from "../../src/index.ts";
import { behaviourFor, parseCommandLine } from "../../src/qscanner-sim/simulation.ts";

const root = mkdtempSync(join(tmpdir(), "qscanner-sim-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let resident: ResidentQscannerSimulator;
beforeAll(async () => {
  resident = await startQscannerSimulator();
});
afterAll(() => resident.close());

// Both executables must look the same to the scanner: the standalone Node one, and the resident
// simulator's bash client.
const EXECUTABLES: Array<[string, () => string]> = [
  ["standalone", () => qscannerSimulatorPath],
  ["resident", () => resident.path],
];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  outputDir: string;
}

function runSimIn(
  executable: string,
  args: (outputDir: string) => string[],
  env: Record<string, string> = {},
): Promise<Run> {
  const outputDir = mkdtempSync(join(root, "out-"));
  return new Promise((resolve) => {
    execFile(
      executable,
      args(outputDir),
      { env: { PATH: process.env.PATH ?? "", TMPDIR: root, QUALYS_ACCESS_TOKEN: "sim-token", ...env } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        resolve({ code, stdout, stderr, outputDir });
      },
    );
  });
}

const scanArgs = (image: string) => (dir: string) => [
  "--pod",
  "US2",
  "--mode",
  "get-report",
  "--report-format",
  "sarif",
  "--output-dir",
  dir,
  "image",
  image,
  "--platform",
  "linux/amd64",
];

describe.each(EXECUTABLES)("qscanner simulator (%s)", (kind, executable) => {
  const runSim = (args: (outputDir: string) => string[], env?: Record<string, string>) =>
    runSimIn(executable(), args, env);

  it("writes ScanResult and SARIF files named like qscanner's, and says it is a simulator", async () => {
    const run = await runSim(scanArgs("docker.io/library/nginx:1.27"));
    expect(run.code).toBe(0);
    expect(run.stdout.split("\n")[0]).toMatch(/^INFO {2}qscanner simulator .*NOT Qualys qscanner/);
    const files = readdirSync(run.outputDir).sort();
    expect(files).toHaveLength(2);
    expect(files[0]).toMatch(/^sha256_[a-f0-9]{12}-Report\.sarif\.json$/);
    expect(files[1]).toMatch(/^sha256_[a-f0-9]{12}-ScanResult\.json$/);
    const sarif = JSON.parse(readFileSync(join(run.outputDir, files[0] ?? ""), "utf8"));
    expect(sarif.runs[0].tool.driver.name).toBe("qscanner-simulator");
    expect(sarif.runs[0].properties.imageDigest).toMatch(/^sha256:[a-f0-9]{64}$/);
  });

  it("produces the same report for the same image every time", async () => {
    const first = await runSim(scanArgs("docker.io/library/redis:7"));
    const second = await runSim(scanArgs("docker.io/library/redis:7"));
    const sarif = (run: Run) => {
      const name = readdirSync(run.outputDir).find((file) => file.endsWith(".sarif.json")) ?? "";
      return readFileSync(join(run.outputDir, name), "utf8");
    };
    expect(sarif(first)).toBe(sarif(second));
  });

  it("accepts flags on either side of `image <ref>` and in --flag=value form", async () => {
    const run = await runSim((dir) => [
      "image",
      "docker.io/library/alpine:3.20",
      "--pod=EU1",
      `--output-dir=${dir}`,
      "--skip-verify-tls=true",
      "--scan-target-info",
      "resource_group=rg-a",
      "-m",
      "inventory-only",
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Scan target info: resource_group=rg-a");
    expect(readdirSync(run.outputDir)).toEqual([expect.stringMatching(/-ScanResult\.json$/)]);
  });

  it("exits 2 on an unknown flag or a missing --pod, as qscanner does for invalid parameters", async () => {
    expect((await runSim(() => ["--pod", "US2", "--bogus", "image", "x"])).code).toBe(2);
    const noPod = await runSim(() => ["image", "docker.io/library/x:1"]);
    expect(noPod.code).toBe(2);
    expect(noPod.stderr).toContain("--pod");
  });

  it("fails without an access token in get-report mode", async () => {
    const run = await runSim(scanArgs("docker.io/library/x:1"), { QUALYS_ACCESS_TOKEN: "" });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/missing access token/);
  });

  it("refuses an ACR image without registry credentials and scans it with them", async () => {
    const refused = await runSim(scanArgs("contoso.azurecr.io/app:1"));
    expect(refused.code).toBe(6);
    expect(refused.stderr).toContain("UNAUTHORIZED");
    const allowed = await runSim(scanArgs("contoso.azurecr.io/app:1"), {
      QSCANNER_REGISTRY_USERNAME: "00000000-0000-0000-0000-000000000000",
      QSCANNER_REGISTRY_PASSWORD: "refresh",
    });
    expect(allowed.code).toBe(0);
  });

  it.each([
    ["exit40", 40, /report not ready/],
    ["notfound", 6, /MANIFEST_UNKNOWN/],
    ["qualysauth", 1, /invalid access token/],
    ["ratelimited", 6, /TOOMANYREQUESTS/],
    ["crash", 1, /internal error/],
    ["leaktoken", 1, /invalid access token: sim-token/],
  ])("simulates %s with exit %i", async (word, code, line) => {
    const run = await runSim(scanArgs(`docker.io/library/app:${word}`));
    expect(run.code).toBe(code);
    expect(run.stderr).toMatch(line);
  });

  it("fails only the first n runs of an image with first<n>", async () => {
    const image = `docker.io/library/app:exit40-first2-${kind}${Date.now()}`;
    const codes = [];
    for (let run = 0; run < 3; run += 1) codes.push((await runSim(scanArgs(image))).code);
    expect(codes).toEqual([40, 40, 0]);
  });

  it("reports a scan timeout when asked to be slower than --scan-timeout", async () => {
    const run = await runSim((dir) => [
      ...scanArgs("docker.io/library/app:slow5000")(dir),
      "--scan-timeout",
      "100ms",
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("scan timed out");
  });

  it("prints a qscanner-style version line", async () => {
    const run = await runSim(() => ["--version"]);
    expect(run.stdout).toMatch(/^qscanner version 0\.0\.0-simulator/);
  });
});

describe("the resident simulator", () => {
  it("drops a run whose client is killed (the scanner's timeout) and writes nothing for it", async () => {
    const outputDir = mkdtempSync(join(root, "out-"));
    const client = spawn(resident.path, scanArgs("docker.io/library/app:slow60000")(outputDir), {
      env: { PATH: process.env.PATH ?? "", QUALYS_ACCESS_TOKEN: "sim-token" },
      stdio: ["ignore", "pipe", "ignore"],
    });
    let stdout = "";
    client.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
    });
    await waitFor(() => stdout.includes("Scanning image"), "the run to start");
    expect(resident.connections).toBe(1);
    client.kill("SIGTERM");
    await waitFor(() => resident.connections === 0, "the run to end");
    expect(readdirSync(outputDir)).toEqual([]);
  });
});

describe("simulator behaviour words", () => {
  it("reads them from the tag or the last path component, ignoring digests", () => {
    expect(behaviourFor("example.com/team/app:slow2000-exit40-first1")).toMatchObject({
      delayMs: 2000,
      failTimes: 1,
      failure: { exitCode: 40 },
    });
    expect(behaviourFor(`example.com/team/hang@sha256:${"a".repeat(64)}`).hang).toBe(true);
    expect(behaviourFor("example.com/slow9/app:1")).toMatchObject({ delayMs: 0, hang: false });
  });

  it("rejects commands the simulator does not implement, precisely", () => {
    expect(() => parseCommandLine(["--pod", "US2", "repo", "."])).toThrow(/unsupported command: repo/);
    expect(() => parseCommandLine(["--pod", "MARS", "image", "x"])).toThrow(/invalid --pod: MARS/);
  });
});

describe.each(EXECUTABLES)(
  "the %s simulator with the local registry (REGISTRY_API_BASE_URL)",
  (_kind, executable) => {
    const runSim = (args: (outputDir: string) => string[], env?: Record<string, string>) =>
      runSimIn(executable(), args, env);
    const ref = "ghcr.io/contoso/app:1.0-exit40";

    it("reports the digest the registry resolves a tag to, and a digest's tag keeps its behaviour words", async () => {
      const registry = await startRegistryEmulator({ images: ["ghcr.io/contoso/app:2.0", ref] });
      try {
        const env = { REGISTRY_API_BASE_URL: registry.url };
        const byTag = await runSim(scanArgs("ghcr.io/contoso/app:2.0"), env);
        expect(byTag.code).toBe(0);
        const name = readdirSync(byTag.outputDir).find((file) => file.endsWith("-Report.sarif.json")) ?? "";
        const sarif = JSON.parse(readFileSync(join(byTag.outputDir, name), "utf8")) as {
          runs: Array<{ properties: { imageDigest: string } }>;
        };
        expect(sarif.runs[0]?.properties.imageDigest).toBe(registry.digestOf("ghcr.io/contoso/app:2.0"));

        // The scanner hands qscanner `repo@digest`: the tag it was pushed as still chooses the behaviour.
        const pinned = `ghcr.io/contoso/app@${registry.digestOf(ref)}`;
        expect((await runSim(scanArgs(pinned), env)).code).toBe(40);
        expect((await runSim(scanArgs(pinned))).code).toBe(0);
      } finally {
        await registry.close();
      }
    });
  },
);
