/**
 * The inputs of `scanctl replay`: files as named, folders as their `.json` / `.jsonl` / `.ndjson`
 * files (recursively, in name order), `-` as standard input. An unreadable path becomes an input
 * with an error, so the others still go through.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { ReplayInput, ReplayInputReader } from "../../core/ports.ts";

const EVENT_FILE = /\.(json|jsonl|ndjson)$/i;

export class FileReplayInputReader implements ReplayInputReader {
  readonly #stdin: AsyncIterable<string | Uint8Array>;

  constructor(stdin: AsyncIterable<string | Uint8Array>) {
    this.#stdin = stdin;
  }

  async *read(paths: readonly string[]): AsyncIterable<ReplayInput> {
    for (const path of paths) {
      if (path === "-") {
        yield { name: "(stdin)", text: await readAll(this.#stdin) };
        continue;
      }
      let isDirectory: boolean;
      try {
        isDirectory = (await stat(path)).isDirectory();
      } catch (error) {
        yield { name: path, error: describe(error) };
        continue;
      }
      const files = isDirectory ? await eventFiles(path) : [path];
      if (isDirectory && files.length === 0)
        yield { name: path, error: "folder holds no .json or .jsonl files" };
      for (const file of files) {
        try {
          yield { name: file, text: await readFile(file, "utf8") };
        } catch (error) {
          yield { name: file, error: describe(error) };
        }
      }
    }
  }
}

async function eventFiles(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && EVENT_FILE.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

async function readAll(stream: AsyncIterable<string | Uint8Array>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk));
  return Buffer.concat(chunks).toString("utf8");
}

function describe(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file or folder";
  if (code === "EACCES") return "permission denied";
  return code ?? (error instanceof Error ? error.message : String(error));
}
