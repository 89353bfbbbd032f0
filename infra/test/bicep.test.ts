// The real Bicep compiler (from NuGet; see infra/bicep-cli) builds and lints every .bicep file under
// infra/. Warnings count as failures: a rule that must not apply is suppressed in place, with its reason
// on the line above.
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { locateBicep, parseDiagnostics, runBicep } from "./support/bicep.ts";
import { infraDir } from "./support/paths.ts";

const bicepFiles = (await readdir(infraDir, { recursive: true, withFileTypes: true }))
  .filter((entry) => entry.isFile() && entry.name.endsWith(".bicep"))
  .map((entry) => relative(infraDir, join(entry.parentPath, entry.name)))
  .sort();

describe("Bicep sources", () => {
  it("suppress a compiler or linter rule only with a reason on the line above", async () => {
    const unexplained: string[] = [];
    for (const file of bicepFiles) {
      const lines = (await readFile(join(infraDir, file), "utf8")).split("\n");
      lines.forEach((line, index) => {
        if (line.trim().startsWith("#disable-") && !lines[index - 1]?.trim().startsWith("//")) {
          unexplained.push(`${file}:${index + 1}: ${line.trim()}`);
        }
      });
    }
    expect(bicepFiles.length).toBeGreaterThan(5);
    expect(unexplained).toEqual([]);
  });
});

const bicep = await locateBicep();

describe.skipIf(!bicep.available)(
  `Bicep compiler (${bicep.available ? bicep.source : `skipped: ${bicep.reason}`})`,
  { timeout: 180_000 },
  () => {
    const compiler = bicep.available ? bicep.path : "";
    // One compiler process at a time: each is CPU-bound, and parallel runs only slow each other down.
    // The parameters file is compiled by `bicep snapshot` in azure.test.ts and drift.test.ts.
    const outDirs: string[] = [];
    afterAll(async () => {
      await Promise.all(outDirs.map((dir) => rm(dir, { recursive: true, force: true })));
    });

    it("builds every .bicep file under infra/ to an ARM template without a diagnostic", async () => {
      const outDir = await mkdtemp(join(tmpdir(), "qcs-bicep-build-"));
      outDirs.push(outDir);
      const result = await runBicep(
        compiler,
        ["build", "--pattern", "**/*.bicep", "--outdir", outDir],
        infraDir,
      );
      expect(parseDiagnostics(result.stderr + result.stdout)).toEqual([]);
      expect(result.exitCode).toBe(0);
      const built = (await readdir(outDir, { recursive: true }))
        .filter((name) => name.endsWith(".json"))
        .sort();
      expect(built).toEqual(bicepFiles.map((file) => file.replace(/\.bicep$/, ".json")));
      const main = JSON.parse(await readFile(join(outDir, "main.json"), "utf8"));
      expect(main.$schema).toContain("subscriptionDeploymentTemplate.json");
    });

    it("lints every .bicep and .bicepparam file with no error and no warning (and flags a planted unused parameter)", async () => {
      // The planted file proves the linter ran with infra/bicepconfig.json and that its findings are read.
      const dir = await mkdtemp(join(tmpdir(), "qcs-bicep-lint-"));
      outDirs.push(dir);
      await cp(infraDir, dir, { recursive: true, filter: (source) => !source.includes(`${sep}test`) });
      await writeFile(join(dir, "planted-unused-param.bicep"), "param forgotten string\n");
      const result = await runBicep(compiler, ["lint", "--pattern", "**/*.bicep*"], dir);
      const findings = parseDiagnostics(result.stderr + result.stdout).map((d) => ({
        ...d,
        file: relative(dir, d.file),
      }));
      expect(findings).toEqual([
        expect.objectContaining({
          file: "planted-unused-param.bicep",
          level: "Error",
          code: "no-unused-params",
        }),
      ]);
      expect(result.exitCode).not.toBe(0);
    });
  },
);
