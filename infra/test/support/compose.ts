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

/** `${NAME:-default}` and `${NAME-default}` become the default; `${NAME}` / `${NAME:?error}` stay unset. */
export function interpolateDefaults(value: string): string | undefined {
  if (!value.includes("${")) return value;
  const whole = /^\$\{[A-Z0-9_]+:?-([^}]*)\}$/.exec(value);
  if (whole) return whole[1];
  if (/^\$\{[A-Z0-9_]+(:?\?[^}]*)?\}$/.test(value)) return undefined;
  return value.replace(/\$\{[A-Z0-9_]+:?-([^}]*)\}/g, "$1");
}
