/**
 * Sits between the scanner and qscanner: `node watchdog.ts <executable> [args...]`, started by the
 * scanner as the leader of a new process group, with a socket to the scanner on fd 3. It runs
 * qscanner in that group (argument array, no shell, the environment it was given) with its output
 * going straight to the scanner. When the socket closes without qscanner having exited, the
 * scanner is gone (even by kill -9, which nothing can catch), so it kills the whole group: qscanner
 * cannot tell that its parent died, and an orphaned scan would run on for up to SCAN_TIMEOUT.
 * qscanner's exit code or signal becomes the watchdog's own; a qscanner that cannot be started is
 * reported on fd 3 (the scanner's `spawnError`).
 */
import { spawn } from "node:child_process";
import { Socket } from "node:net";

const [executable, ...args] = process.argv.slice(2);
const scanner = new Socket({ fd: 3, readable: true, writable: true });
const killGroup = () => process.kill(-process.pid, "SIGKILL");
scanner.on("end", killGroup);
scanner.on("error", killGroup);
scanner.resume();
// A SIGTERM to the group reaches qscanner as well; staying until it has exited keeps the group's
// grace period (the scanner SIGKILLs the group as soon as its leader exits).
process.on("SIGTERM", () => {});

const qscanner = spawn(executable ?? "", args, { stdio: ["ignore", "inherit", "inherit"], shell: false });
qscanner.once("error", (error: NodeJS.ErrnoException) => {
  scanner.off("end", killGroup);
  scanner.end(`${error.code ?? "error"}: ${error.message}`, () => process.exit(127));
});
qscanner.once("exit", (code, signal) => {
  scanner.off("end", killGroup);
  if (signal === null) process.exit(code ?? 1);
  process.removeAllListeners("SIGTERM");
  process.kill(process.pid, signal);
});
