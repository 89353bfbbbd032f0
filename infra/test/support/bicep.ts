/**
 * Finds a Bicep compiler for the infra checks: the version pinned in infra/bicep-cli/bicep-cli.csproj,
 * restored from NuGet into the user's NuGet cache when `dotnet` exists (a no-op once cached), else a
 * `bicep` on PATH, else the one `az bicep install` manages. No compiler at all is a skip, with a reason.
 */
import { execFile } from "node:child_process";
import { constants } from "node:fs";
import { access, chmod, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import { infraDir } from "./paths.ts";

const run = promisify(execFile);

export type BicepCompiler =
  | { available: true; path: string; source: string }
  | { available: false; reason: string };

const restoreProject = join(infraDir, "bicep-cli", "bicep-cli.csproj");
const packageId = "Azure.Bicep.CommandLine.linux-x64";

export async function pinnedBicepVersion(): Promise<string> {
  const project = await readFile(restoreProject, "utf8");
  const version = new RegExp(
    `Include="${packageId.replaceAll(".", "\\.")}"\\s+Version="\\[([^\\]]+)\\]"`,
  ).exec(project)?.[1];
  if (!version) throw new Error(`${restoreProject}: no exact Version="[x.y.z]" for ${packageId}`);
  return version;
}

async function onPath(command: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      await access(candidate, constants.X_OK);
      if ((await stat(candidate)).isFile()) return candidate;
    } catch {}
  }
  return undefined;
}

async function executable(path: string): Promise<boolean> {
  try {
    const info = await stat(path);
    // NuGet extracts without the execute bit on some systems.
    if ((info.mode & 0o100) === 0) await chmod(path, info.mode | 0o100);
    return true;
  } catch {
    return false;
  }
}

async function fromNuGet(): Promise<BicepCompiler | undefined> {
  if (process.platform !== "linux" || process.arch !== "x64") return undefined;
  const version = await pinnedBicepVersion();
  const packages = process.env.NUGET_PACKAGES || join(homedir(), ".nuget", "packages");
  const binary = join(packages, packageId.toLowerCase(), version, "tools", "bicep");
  const source = `NuGet ${packageId} ${version}`;
  if (await executable(binary)) return { available: true, path: binary, source };
  const dotnet = await onPath("dotnet");
  if (!dotnet) return undefined;
  // Each restore writes its project files to a directory of its own: test files restore in parallel on
  // a fresh machine, and NuGet itself serialises the download into the shared package cache.
  const obj = await mkdtemp(join(tmpdir(), "qcs-bicep-restore-"));
  try {
    await run(
      dotnet,
      [
        "restore",
        restoreProject,
        "--nologo",
        "--verbosity",
        "quiet",
        `-p:BaseIntermediateOutputPath=${obj}/`,
        `-p:MSBuildProjectExtensionsPath=${obj}/`,
      ],
      { timeout: 300_000, env: { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: "1", DOTNET_NOLOGO: "1" } },
    );
  } catch (error) {
    return { available: false, reason: `dotnet restore of ${source} failed: ${firstLine(error)}` };
  } finally {
    await rm(obj, { recursive: true, force: true });
  }
  return (await executable(binary))
    ? { available: true, path: binary, source }
    : { available: false, reason: `dotnet restore did not produce ${binary}` };
}

async function fromAzureCli(): Promise<BicepCompiler | undefined> {
  const az = await onPath("az");
  if (!az) return undefined;
  await run(az, ["bicep", "install"], { timeout: 300_000 }).catch(() => undefined);
  const binary = join(homedir(), ".azure", "bin", "bicep");
  return (await executable(binary)) ? { available: true, path: binary, source: "az bicep" } : undefined;
}

let located: Promise<BicepCompiler> | undefined;

export function locateBicep(): Promise<BicepCompiler> {
  located ??= (async () => {
    const nuget = await fromNuGet();
    if (nuget?.available) return nuget;
    const path = await onPath("bicep");
    if (path) return { available: true, path, source: "bicep on PATH" };
    const az = await fromAzureCli();
    if (az) return az;
    return nuget ?? { available: false, reason: "neither dotnet nor a bicep / az bicep binary is on PATH" };
  })();
  return located;
}

export interface BicepRun {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the compiler with a minimal environment, so a developer's shell cannot change what a .bicepparam
 * reads; `env` adds the variables a test means it to read.
 */
export async function runBicep(
  bicep: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<BicepRun> {
  try {
    const { stdout, stderr } = await run(bicep, args, {
      cwd,
      timeout: 180_000,
      maxBuffer: 64 * 1024 * 1024,
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: process.env.HOME ?? homedir(),
        TMPDIR: process.env.TMPDIR ?? "/tmp",
        DOTNET_CLI_TELEMETRY_OPTOUT: "1",
        ...env,
      },
    });
    return { exitCode: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof failure.code !== "number") throw error;
    return { exitCode: failure.code, stdout: failure.stdout ?? "", stderr: failure.stderr ?? "" };
  }
}

export interface Diagnostic {
  file: string;
  line: number;
  level: string;
  code: string;
  message: string;
}

/** Parses the compiler's default diagnostic lines: `path(line,col) : Level code: message`. */
export function parseDiagnostics(output: string): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  for (const line of output.split("\n")) {
    const match = /^(.+?)\((\d+),\d+\) : (Error|Warning|Info) ([\w-]+): (.*)$/.exec(line.trim());
    if (match) {
      diagnostics.push({
        file: match[1] ?? "",
        line: Number(match[2]),
        level: match[3] ?? "",
        code: match[4] ?? "",
        message: match[5] ?? "",
      });
    }
  }
  return diagnostics;
}

function firstLine(error: unknown): string {
  const text = (error as { stderr?: string }).stderr || (error as Error).message || String(error);
  return text.trim().split("\n")[0] ?? "";
}
