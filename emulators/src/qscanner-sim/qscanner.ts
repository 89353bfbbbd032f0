#!/usr/bin/env node
// The standalone qscanner simulator: accepts qscanner's command line, writes the same output files
// and exits with qscanner's exit codes, deterministically by image reference (scan.ts). It says it
// is a simulator on its first line and in every file it writes.
import { spawn } from "node:child_process";
import { runSimulator } from "./scan.ts";

const code = await runSimulator({
  argv: process.argv.slice(2),
  env: process.env,
  cwd: process.cwd(),
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  signal: new AbortController().signal,
  hang: () => {
    // A helper in the same process group, as a real scanner's children would be: a timeout must kill both.
    const helper = spawn(process.execPath, ["-e", "setInterval(() => {}, 1 << 30)"], { stdio: "ignore" });
    process.stdout.write(`INFO  helper process ${helper.pid}\n`);
    process.on("SIGTERM", () => process.stdout.write("INFO  ignoring SIGTERM (simulated hang)\n"));
    setInterval(() => {}, 1 << 30);
  },
});
process.exit(code);
