/** Reads the compose files as Compose does: YAML 1.1 merge keys and the `!reset` / `!override` tags. */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse, type ScalarTag } from "yaml";
import { repoRoot } from "./paths.ts";

// `!reset` removes an inherited value (null here); `!override` replaces it whole.
const composeTags: ScalarTag[] = [
  { tag: "!reset", resolve: () => null },
  { tag: "!override", resolve: (value: string) => value },
];

export interface ComposeService {
  image?: string;
  build?: { context?: string; target?: string; args?: Record<string, string> };
  environment?: Record<string, string | null>;
  ports?: string[];
  volumes?: string[];
  secrets?: string[];
  healthcheck?: { test: string[] | string };
  depends_on?: Record<string, { condition: string }>;
  profiles?: string[];
}

export interface ComposeFile {
  name?: string;
  services: Record<string, ComposeService>;
  secrets?: Record<string, unknown>;
  [extension: string]: unknown;
}

export function parseCompose(text: string): ComposeFile {
  return parse(text, { merge: true, customTags: composeTags, prettyErrors: true }) as ComposeFile;
}

export async function readCompose(file: string): Promise<ComposeFile> {
  return parseCompose(await readFile(join(repoRoot, file), "utf8"));
}

/**
 * Interpolates a value as Compose would: `${NAME:-default}` / `${NAME-default}` from `given` or the default,
 * `${NAME}` and `${NAME:?error}` from `given` only (undefined when not given: Compose would refuse to start).
 */
export function interpolate(value: string, given: Record<string, string> = {}): string | undefined {
  let missing = false;
  const result = value.replace(
    /\$\{([A-Z0-9_]+)(?:(:?-)([^}]*)|:?\?[^}]*)?\}/g,
    (_, name: string, dash, fallback) => {
      if (given[name] !== undefined) return given[name];
      if (dash !== undefined) return fallback;
      missing = true;
      return "";
    },
  );
  return missing ? undefined : result;
}
