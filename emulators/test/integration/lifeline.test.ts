// Azurite ends with its parent, even when the parent is killed with SIGKILL (nothing runs on the
// way out): a parent process starts it, prints its PID and is killed.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";

const AZURITE = new URL("../../src/azurite/azurite.ts", import.meta.url).pathname;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("lifeline", () => {
  it("ends Azurite when the process that started it is killed with SIGKILL", async () => {
    const parent = spawn(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `const { startAzurite } = await import(${JSON.stringify(AZURITE)});
         const azurite = await startAzurite({ detached: true });
         console.log(azurite.pid);
         setInterval(() => {}, 1 << 30);`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const exited = new Promise((resolve) => parent.once("exit", resolve));
    const pid = await new Promise<number>((resolve, reject) => {
      createInterface({ input: parent.stdout as NodeJS.ReadableStream }).once("line", (line) =>
        resolve(Number(line)),
      );
      parent.once("exit", () => reject(new Error("the parent exited before Azurite was ready")));
    });
    expect(isAlive(pid)).toBe(true);

    parent.kill("SIGKILL");
    await exited;
    for (let tries = 0; tries < 400 && isAlive(pid); tries += 1) await sleep(50);
    const survived = isAlive(pid);
    if (survived) process.kill(pid, "SIGKILL");
    expect(survived).toBe(false);
  });
});
