#!/usr/bin/env node
// scanctl: the operator's command. Until the local stack lands (issue "npm start"), `dev` says what it will do.
import { runScanctl } from "./main.ts";

const [command] = process.argv.slice(2);
if (command === "dev") {
  console.log(
    [
      "npm start will run the whole pipeline on this machine without Docker:",
      "  Azurite, the Service Bus / Event Hubs emulator, a local ARM endpoint and the qscanner simulator,",
      "  then services/ingest, services/scanner and services/recorder, and replay the bundled example events.",
      "It is not built yet: see the open issues (`issues`). Today: `npm test` runs the test suite.",
    ].join("\n"),
  );
  process.exit(0);
}

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
