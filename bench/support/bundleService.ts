// A service bundled into one ESM file (plus the chunks of its lazy imports) with rolldown, for
// bench/startup.bench.ts to compare with running the TypeScript sources.
import { copyFile, cp } from "node:fs/promises";
import { join } from "node:path";
import { build } from "rolldown";

/** Bundles services/<service>/src/main.ts into `outDir`; returns the entry file. */
export async function bundleService(root: string, service: string, outDir: string): Promise<string> {
  await build({
    input: join(root, "services", service, "src", "main.ts"),
    platform: "node",
    logLevel: "silent",
    output: { dir: outDir, format: "esm", entryFileNames: "main.js" },
  });
  // Files the code finds beside itself at run time.
  if (service === "scanner") {
    await copyFile(
      join(root, "services/scanner/src/adapters/qscanner/watchdog.sh"),
      join(outDir, "watchdog.sh"),
    );
  }
  if (service === "recorder") {
    for (const folder of ["static", "templates"])
      await cp(join(root, "services/recorder/src/pages", folder), join(outDir, folder), { recursive: true });
  }
  return join(outDir, "main.js");
}
