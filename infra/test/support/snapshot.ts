/**
 * `bicep snapshot` of main.bicepparam: the resources a deployment would create, with every expression
 * that does not depend on a deployed resource already evaluated. Cached under .local/ by the hash of the
 * inputs, so the test files that read it share one compiler run. `env` holds variables main.bicepparam
 * reads (as deploy.sh would export them), for a snapshot with other parameters.
 */
import { createHash } from "node:crypto";
import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { runBicep } from "./bicep.ts";
import { infraDir, repoRoot } from "./paths.ts";

export interface PredictedResource {
  id: string;
  type: string;
  name: string;
  apiVersion: string;
  location?: string;
  /** An ARM expression, when the snapshot could not decide whether the resource is deployed. */
  condition?: string;
  identity?: { type: string; userAssignedIdentities?: Record<string, unknown> };
  // biome-ignore lint/suspicious/noExplicitAny: ARM resource bodies are schemaless JSON.
  properties?: any;
}

export interface DeploymentSnapshot {
  predictedResources: PredictedResource[];
  diagnostics: unknown[];
}

/** Fixed placeholders: the snapshot must not depend on who runs it. */
export const SNAPSHOT_SCOPE = {
  subscriptionId: "00000000-0000-0000-0000-00000000c0de",
  tenantId: "00000000-0000-0000-0000-00000000beef",
  location: "westeurope",
};

async function inputFiles(): Promise<string[]> {
  const entries = await readdir(infraDir, { recursive: true, withFileTypes: true });
  return (
    entries
      // With the files the templates load (loadTextContent, loadJsonContent): the KQL and the workbook.
      .filter(
        (entry) =>
          entry.isFile() && /\.(bicep|bicepparam|kql|workbook\.json)$|^bicepconfig\.json$/.test(entry.name),
      )
      .map((entry) => join(entry.parentPath, entry.name))
      .filter((path) => !relative(infraDir, path).startsWith("test"))
      .sort()
  );
}

export async function deploymentSnapshot(
  bicep: string,
  bicepVersion: string,
  env: Record<string, string> = {},
): Promise<DeploymentSnapshot> {
  const files = await inputFiles();
  const hash = createHash("sha256")
    .update(bicepVersion)
    .update(JSON.stringify(SNAPSHOT_SCOPE))
    .update(JSON.stringify(env));
  for (const file of files) hash.update(relative(infraDir, file)).update(await readFile(file));
  const cacheDir = join(repoRoot, ".local", "infra-snapshot");
  const cached = join(cacheDir, `${hash.digest("hex")}.json`);
  try {
    return JSON.parse(await readFile(cached, "utf8")) as DeploymentSnapshot;
  } catch {}

  const work = await mkdtemp(join(tmpdir(), "qcs-snapshot-"));
  try {
    for (const file of files) {
      const target = join(work, relative(infraDir, file));
      await mkdir(dirname(target), { recursive: true });
      await cp(file, target);
    }
    const result = await runBicep(
      bicep,
      [
        "snapshot",
        "main.bicepparam",
        "--mode",
        "overwrite",
        "--subscription-id",
        SNAPSHOT_SCOPE.subscriptionId,
        "--tenant-id",
        SNAPSHOT_SCOPE.tenantId,
        "--location",
        SNAPSHOT_SCOPE.location,
        "--deployment-name",
        "snapshot",
      ],
      work,
      env,
    );
    if (result.exitCode !== 0) {
      throw new Error(`bicep snapshot failed (${result.exitCode}):\n${result.stderr}${result.stdout}`);
    }
    const text = await readFile(join(work, "main.snapshot.json"), "utf8");
    await mkdir(cacheDir, { recursive: true });
    const partial = `${cached}.${process.pid}`;
    await writeFile(partial, text);
    await rename(partial, cached);
    return JSON.parse(text) as DeploymentSnapshot;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
