/** Runs scanctl in-process as the shell would, capturing what it prints. */
import { Readable } from "node:stream";
import { runScanctl, type ScanctlTuning } from "../../src/main.ts";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (for --json runs). */
  json<T = Record<string, unknown>>(): T;
}

export async function scanctl(
  argv: string[],
  env: Record<string, string | undefined> = {},
  options: { stdin?: string; tuning?: ScanctlTuning } = {},
): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const code = await runScanctl(
    argv,
    {
      stdout: { write: (text: string) => (stdout += text), isTTY: false },
      stderr: { write: (text: string) => (stderr += text), isTTY: false },
      stdin: Readable.from(options.stdin === undefined ? [] : [options.stdin]),
    },
    env,
    options.tuning,
  );
  return {
    code,
    stdout,
    stderr,
    json: <T>() => {
      try {
        return JSON.parse(stdout) as T;
      } catch {
        throw new Error(`stdout is not JSON (exit ${code}):\n${stdout}\nstderr:\n${stderr}`);
      }
    },
  };
}
