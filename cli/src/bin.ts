#!/usr/bin/env node
// scanctl: the operator's command (and `scanctl dev`, the local stack `npm start` runs).
import { runScanctl } from "./main.ts";

// `scanctl dlq list | head`: the reader left; nothing more to say.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});

// First Ctrl-C / SIGTERM: stop at the next safe point and report; a second one: leave at once.
const interrupt = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    interrupt.abort();
    process.once(signal, () => process.exit(130));
  });
}
process.exitCode = await runScanctl(
  process.argv.slice(2),
  { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, signal: interrupt.signal },
  process.env,
);
