/**
 * What the emulators' `Config.json` loaders share: reading the file, and errors that list every
 * problem with the path of its field (`UserConfig.Namespaces[0].Queues[1].Properties.LockDuration`).
 */
import { readFile } from "node:fs/promises";
import type { z } from "zod";

export interface ConfigIssue {
  /** The field's path, `(file)` for a file that cannot be read or parsed, `(root)` for the document. */
  path: string;
  message: string;
}

/** Every problem of one configuration at once; subclasses name the emulator. */
export abstract class EmulatorConfigError extends Error {
  readonly issues: readonly ConfigIssue[];
  constructor(what: string, source: string, issues: readonly ConfigIssue[]) {
    super(
      `invalid ${what} configuration (${source}):\n` +
        issues.map((issue) => `  - ${issue.path}: ${issue.message}`).join("\n"),
    );
    this.issues = issues;
  }
}

export function formatIssuePath(path: ReadonlyArray<PropertyKey>): string {
  let text = "";
  for (const key of path) {
    text += typeof key === "number" ? `[${key}]` : `${text ? "." : ""}${String(key)}`;
  }
  return text || "(root)";
}

export function zodConfigIssues(error: z.ZodError): ConfigIssue[] {
  return error.issues.map((issue) => ({ path: formatIssuePath(issue.path), message: issue.message }));
}

/** The file's JSON; a missing, unreadable or non-JSON file becomes `invalid(issues)`'s error. */
export async function readConfigJson(
  path: string,
  invalid: (issues: ConfigIssue[]) => EmulatorConfigError,
): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw invalid([{ path: "(file)", message: (error as Error).message }]);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalid([{ path: "(file)", message: `not JSON: ${(error as Error).message}` }]);
  }
}
