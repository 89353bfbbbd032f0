/**
 * Preload (`node --import <lifelinePath> ...`) for Node child processes whose parent holds the
 * other end of a socket on their fd 3 (`stdio: [..., "pipe"]`). When that socket closes, the
 * parent is gone, even by kill -9, which leaves it no chance to stop its children: stop as if
 * sent SIGTERM, and exit for good after a grace period (with the parent gone, what a graceful stop
 * waits for may never answer). Without a socket on fd 3 it does nothing.
 */
import { fstatSync } from "node:fs";
import { Socket } from "node:net";

const GRACE_MS = 5000;

if (hasSocket(3)) {
  const parent = new Socket({ fd: 3, readable: true, writable: false });
  const stop = () => {
    setTimeout(() => process.kill(process.pid, "SIGKILL"), GRACE_MS).unref();
    process.kill(process.pid, "SIGTERM");
  };
  parent.once("end", stop);
  parent.once("error", stop);
  parent.resume();
  // The socket must not keep a process alive that has finished its work.
  parent.unref();
}

function hasSocket(fd: number): boolean {
  try {
    return fstatSync(fd).isSocket();
  } catch {
    return false;
  }
}
