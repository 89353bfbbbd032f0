/**
 * The local stack's processes, recorded on its data folder so that the next start on that folder
 * can clear up after a run that was killed (kill -9 runs no clean-up, and a child that outlived it
 * would hold the ports and the data): one file per process under `<dataDir>/pids` with its PID and
 * its start time, so a PID the system has since given to an unrelated process is never touched.
 * Start times come from /proc: elsewhere nothing is recorded and the lifeline alone ends children.
 */
import { readFileSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";

const SUPERVISOR = "dev";

export interface Leftover {
  name: string;
  pid: number;
}

export class StackInUseError extends Error {
  override readonly name = "StackInUseError";
}

export class PidFiles {
  readonly #dir: string;

  constructor(dataDir: string) {
    this.#dir = join(dataDir, "pids");
  }

  /**
   * Takes the data folder for this process: refuses when the stack that recorded it still runs,
   * kills (by process group) whatever a killed stack left running, and returns what it killed.
   */
  async claim(): Promise<Leftover[]> {
    await mkdir(this.#dir, { recursive: true });
    const recorded = await this.#recorded();
    const supervisor = recorded.find((entry) => entry.name === SUPERVISOR);
    if (supervisor && supervisor.pid !== process.pid && isSameProcess(supervisor)) {
      throw new StackInUseError(
        `another local stack (PID ${supervisor.pid}) uses ${this.#dir.replace(/\/pids$/, "")}; stop it or give --data-dir`,
      );
    }
    const leftovers = recorded.filter((entry) => entry.name !== SUPERVISOR && isSameProcess(entry));
    for (const { pid } of leftovers) kill(pid);
    for (let tries = 0; tries < 200 && leftovers.some(isSameProcess); tries += 1) await delay(50);
    await rm(this.#dir, { recursive: true, force: true });
    await mkdir(this.#dir, { recursive: true });
    await this.record(SUPERVISOR, process.pid);
    return leftovers.map(({ name, pid }) => ({ name, pid }));
  }

  async record(name: string, pid: number): Promise<void> {
    const startTime = startTimeOf(pid);
    if (startTime === undefined) return;
    // Renamed into place, so a reader never sees half a file.
    const file = join(this.#dir, `${name}.json`);
    await writeFile(`${file}.tmp`, JSON.stringify({ pid, startTime }));
    await rename(`${file}.tmp`, file);
  }

  /** After a clean stop: nothing is left to clear. */
  async release(): Promise<void> {
    await rm(this.#dir, { recursive: true, force: true });
  }

  async #recorded(): Promise<Array<Leftover & { startTime: string }>> {
    const entries = [];
    for (const file of await readdir(this.#dir)) {
      if (!file.endsWith(".json")) continue;
      try {
        const { pid, startTime } = JSON.parse(await readFile(join(this.#dir, file), "utf8"));
        if (Number.isInteger(pid) && pid > 0 && typeof startTime === "string") {
          entries.push({ name: file.slice(0, -".json".length), pid, startTime });
        }
      } catch {
        // Unreadable: nothing to act on.
      }
    }
    return entries;
  }
}

function isSameProcess(entry: { pid: number; startTime: string }): boolean {
  return startTimeOf(entry.pid) === entry.startTime;
}

/** Field 22 of /proc/<pid>/stat (clock ticks since boot); undefined when there is no such process. */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count from its closing one.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields from 3 on; a zombie is as good as gone.
    return fields[0] === "Z" ? undefined : fields[19];
  } catch {
    return undefined;
  }
}

/** The stack's children lead their own process groups: the group takes anything they started. */
function kill(pid: number): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, "SIGKILL");
    } catch {
      // ESRCH: gone already (or not a group leader).
    }
  }
}
