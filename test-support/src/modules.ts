import { execFile } from "node:child_process";
import { promisify } from "node:util";

/** Records the URL of every module resolved in the process, printed as JSON when it exits. */
const RECORDING_HOOK = `
import { writeSync } from "node:fs";
import { registerHooks } from "node:module";
const loaded = new Set();
registerHooks({
  resolve(specifier, context, nextResolve) {
    const result = nextResolve(specifier, context);
    loaded.add(result.url);
    return result;
  },
});
// Synchronous: an asynchronous write to a pipe may be cut off when the process exits. A pipe whose
// reader is slow takes part of a large write, or none (EAGAIN): write the rest until all is out.
process.on("exit", () => {
  const bytes = Buffer.from(JSON.stringify([...loaded]));
  for (let offset = 0; offset < bytes.length; ) {
    try {
      offset += writeSync(1, bytes, offset);
    } catch (error) {
      if (error.code !== "EAGAIN") throw error;
    }
  }
});
`;

/** The URLs of every module a fresh Node process loads when it imports `entry` (resolved from `cwd`). */
export async function modulesLoadedBy(entry: string, cwd: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      "--import",
      `data:text/javascript,${encodeURIComponent(RECORDING_HOOK)}`,
      "--input-type=module",
      "-e",
      `await import(${JSON.stringify(entry)});`,
    ],
    { cwd, maxBuffer: 64 * 1024 * 1024 },
  );
  return JSON.parse(stdout) as string[];
}
