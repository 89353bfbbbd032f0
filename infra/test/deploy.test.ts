// infra/deploy.sh against a stand-in `az` that records each call (arguments and the environment the
// Bicep parameters file reads) and answers the few queries the script makes.
import { execFile } from "node:child_process";
import { chmod, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "./support/paths.ts";

const run = promisify(execFile);
const bash = (await run("bash", ["-c", "command -v bash"])).stdout.trim();
const script = join(repoRoot, "infra", "deploy.sh");
const TOKEN = "qualys-token-that-must-stay-off-argv";

// Logs one JSON line per call; `deployment sub show` answers with the outputs deploy.sh reads.
const FAKE_AZ = `#!/usr/bin/env bash
node -e 'require("fs").appendFileSync(process.env.AZ_LOG, JSON.stringify({ args: process.argv.slice(1),
  deployApps: process.env.DEPLOY_APPS ?? null, tokenInEnv: process.env.QUALYS_ACCESS_TOKEN ?? null,
  imageTag: process.env.IMAGE_TAG ?? null, monitored: process.env.MONITORED_SUBSCRIPTION_IDS ?? null }) + "\\n")' -- "$@"
case "$*" in
  # HIDDEN_SUBSCRIPTION: a subscription this login cannot see.
  *"account show --subscription \${HIDDEN_SUBSCRIPTION:-none}"*) exit 1 ;;
  *"deployment sub create"*)
    # FAIL_APPS_ONCE: the first deployment of the apps fails, as when new roles have not reached Key Vault.
    if [[ "$DEPLOY_APPS" == true && -n "\${FAIL_APPS_ONCE:-}" && ! -e "$FAIL_APPS_ONCE" ]]; then
      touch "$FAIL_APPS_ONCE"; echo "secret reference could not be resolved" >&2; exit 1
    fi ;;
  *"deployment sub show"*registryName*) echo crqcstest01 ;;
  *"deployment sub show"*resourceGroupName*) echo rg-qcs ;;
esac
`;

interface AzCall {
  args: string[];
  deployApps: string | null;
  tokenInEnv: string | null;
  imageTag: string | null;
  monitored: string | null;
}

let dir: string;
let azLog: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "qcs-deploy-"));
  await writeFile(join(dir, "az"), FAKE_AZ);
  await chmod(join(dir, "az"), 0o755);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function deploy(args: string[], env: Record<string, string>, withAz = true) {
  azLog = join(dir, `az-${Math.random().toString(36).slice(2)}.log`);
  const path = withAz ? `${dir}:${process.env.PATH}` : await pathWithout("az");
  try {
    const { stdout, stderr } = await run(bash, [script, ...args], {
      cwd: repoRoot,
      env: { PATH: path, HOME: dir, AZ_LOG: azLog, ...env },
    });
    return { code: 0, stdout, stderr, calls: await calls() };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr, calls: await calls() };
  }
}

async function calls(): Promise<AzCall[]> {
  const text = await readFile(azLog, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as AzCall);
}

/** A PATH with only what deploy.sh needs before it looks for az (no az anywhere). */
async function pathWithout(_: "az"): Promise<string> {
  const bin = join(dir, "no-az");
  await run("mkdir", ["-p", bin]);
  for (const tool of ["dirname", "git"]) {
    const { stdout } = await run("bash", ["-c", `command -v ${tool}`]);
    await symlink(stdout.trim(), join(bin, tool)).catch(() => undefined);
  }
  return bin;
}

describe("infra/deploy.sh", () => {
  it("explains its options with --help", async () => {
    const result = await deploy(["--help"], {});
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("--what-if");
    expect(result.stdout).toContain("--image-tag TAG");
    expect(result.calls).toEqual([]);
  });

  it("refuses to run without the Azure CLI and says what is missing", async () => {
    const result = await deploy([], { QUALYS_POD: "US2" }, false);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("az (Azure CLI");
  });

  it("rejects an unknown option", async () => {
    const result = await deploy(["--force"], {});
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("unknown option: --force");
  });

  it("with --what-if previews the whole deployment and builds or changes nothing", async () => {
    const result = await deploy(["--what-if"], { QUALYS_POD: "US2" });
    expect(result.code).toBe(0);
    const azure = result.calls.filter((call) => call.args[0] !== "account");
    expect(azure).toHaveLength(1);
    expect(azure[0]?.args.slice(0, 3)).toEqual(["deployment", "sub", "what-if"]);
    expect(azure[0]?.args).toEqual(expect.arrayContaining(["--parameters", "infra/main.bicepparam"]));
    expect(azure[0]?.deployApps).toBe("true");
  });

  it("deploys the infrastructure, builds the three images, then the apps, with the token never on a command line", async () => {
    const result = await deploy([], {
      QUALYS_POD: "US2",
      QUALYS_ACCESS_TOKEN: TOKEN,
      QSCANNER_VERSION: "4.6.0-4",
      QSCANNER_URL: "https://downloads.example/qscanner.tar.gz",
      QSCANNER_SHA256: "0".repeat(64),
    });
    expect(result.code, result.stderr).toBe(0);
    const steps = result.calls
      .filter(
        (call) => call.args[0] !== "account" && call.args.slice(0, 3).join(" ") !== "deployment sub show",
      )
      .map(
        (call) =>
          `${call.args.slice(0, 3).join(" ")}${call.args[0] === "deployment" ? ` apps=${call.deployApps}` : ""}`,
      );
    expect(steps).toEqual([
      "deployment sub create apps=false",
      "acr build --registry",
      "acr build --registry",
      "acr build --registry",
      "deployment sub create apps=true",
    ]);
    const builds = result.calls.filter((call) => call.args[0] === "acr");
    expect(builds.map((call) => call.args[call.args.indexOf("--target") + 1])).toEqual([
      "ingest",
      "recorder",
      "scanner",
    ]);
    expect(builds[2]?.args).toEqual(
      expect.arrayContaining(["--build-arg", `QSCANNER_SHA256=${"0".repeat(64)}`]),
    );
    const tag = result.calls[1]?.imageTag ?? "";
    expect(builds.map((call) => call.args[call.args.indexOf("--image") + 1])).toEqual(
      ["ingest", "recorder", "scanner"].map((service) => `qcs-${service}:${tag}`),
    );
    for (const call of result.calls) expect(call.args.join(" ")).not.toContain(TOKEN);
    const deployments = result.calls.filter(
      (call) => call.args.slice(0, 3).join(" ") === "deployment sub create",
    );
    for (const call of deployments) expect(call.tokenInEnv).toBe(TOKEN);
  });

  it("rolls back with --image-tag: no build, the tagged images must exist, the stored secrets are kept", async () => {
    const result = await deploy(["--image-tag", "abc123def456", "--keep-secrets"], { QUALYS_POD: "US2" });
    expect(result.code).toBe(0);
    expect(result.calls.some((call) => call.args.slice(0, 2).join(" ") === "acr build")).toBe(false);
    const checked = result.calls.filter((call) => call.args.slice(0, 3).join(" ") === "acr repository show");
    expect(checked.map((call) => call.args[call.args.indexOf("--image") + 1])).toEqual([
      "qcs-ingest:abc123def456",
      "qcs-scanner:abc123def456",
      "qcs-recorder:abc123def456",
    ]);
    const deployments = result.calls.filter(
      (call) => call.args.slice(0, 3).join(" ") === "deployment sub create",
    );
    expect(deployments.map((call) => [call.imageTag, call.tokenInEnv])).toEqual([
      ["abc123def456", ""],
      ["abc123def456", ""],
    ]);
  });

  it("retries the apps once when their first deployment fails (roles still propagating)", async () => {
    const result = await deploy(["--image-tag", "abc123def456", "--keep-secrets"], {
      QUALYS_POD: "US2",
      FAIL_APPS_ONCE: join(dir, `failed-${Date.now()}`),
      QCS_DEPLOY_RETRY_SECONDS: "0",
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("retrying once");
    const deployments = result.calls.filter(
      (call) => call.args.slice(0, 3).join(" ") === "deployment sub create",
    );
    expect(deployments.map((call) => call.deployApps)).toEqual(["false", "true", "true"]);
  });

  it("stops before touching Azure when the Qualys token is missing", async () => {
    const result = await deploy([], { QUALYS_POD: "US2" });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("set QUALYS_ACCESS_TOKEN or QUALYS_ACCESS_TOKEN_FILE");
    expect(result.calls.map((call) => call.args.slice(0, 2).join(" "))).toEqual(["account show"]);
  });

  describe("--subscriptions", () => {
    const A = "0a0a0a0a-0000-4000-8000-00000000000a";
    const B = "0b0b0b0b-0000-4000-8000-00000000000b";
    const deployments = (calls: AzCall[]) =>
      calls.filter((call) => call.args.slice(0, 2).join(" ") === "deployment sub");

    it("passes every listed subscription to the parameters file after checking this login sees each", async () => {
      const result = await deploy(["--what-if", "--subscriptions", `${A},${B}`], {
        QUALYS_POD: "US2",
      });
      expect(result.code, result.stderr).toBe(0);
      const checked = result.calls.filter((call) => call.args.includes("--subscription"));
      expect(checked.map((call) => call.args)).toEqual([
        ["account", "show", "--subscription", A, "--output", "none"],
        ["account", "show", "--subscription", B, "--output", "none"],
      ]);
      expect(deployments(result.calls).map((call) => call.monitored)).toEqual([`${A},${B}`]);
    });

    it("applies to both passes of a deployment", async () => {
      const result = await deploy(["--image-tag", "abc123def456", "--keep-secrets", "--subscriptions", A], {
        QUALYS_POD: "US2",
      });
      expect(result.code, result.stderr).toBe(0);
      const created = deployments(result.calls).filter((call) => call.args[2] === "create");
      expect(created.map((call) => [call.deployApps, call.monitored])).toEqual([
        ["false", A],
        ["true", A],
      ]);
    });

    it("without the option leaves the list empty, so main.bicep monitors the subscription deployed to", async () => {
      const result = await deploy(["--what-if"], { QUALYS_POD: "US2" });
      expect(result.code).toBe(0);
      expect(deployments(result.calls).map((call) => call.monitored)).toEqual([""]);
    });

    it("rejects something that is not a subscription ID before touching Azure", async () => {
      const result = await deploy(["--what-if", "--subscriptions", `${A}, ${B}`], { QUALYS_POD: "US2" });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`not a subscription ID: ' ${B}'`);
      expect(result.calls).toEqual([]);
    });

    it("stops before deploying when this login cannot see a listed subscription", async () => {
      const result = await deploy(["--what-if", "--subscriptions", `${A},${B}`], {
        QUALYS_POD: "US2",
        HIDDEN_SUBSCRIPTION: B,
      });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`cannot see subscription ${B}`);
      expect(deployments(result.calls)).toEqual([]);
    });
  });
});
