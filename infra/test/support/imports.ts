/**
 * The runtime import closure of an entry file: every repository file it loads (following relative
 * imports and the @qcs/* workspace packages) and every npm package it needs. Type-only imports are left
 * out, since Node erases them. Regex-based: the project's sources use static ESM import syntax only.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { repoRoot } from "./paths.ts";

const IMPORT = /^\s*(import|export)\s+(type\s+)?(?:[^"';]*?\s+from\s+)?["']([^"']+)["']/gm;
const DYNAMIC = /\bimport\(\s*["']([^"']+)["']\s*\)/g;

export interface ImportClosure {
  /** Repository-relative paths of every file loaded at run time. */
  files: string[];
  /** npm packages imported, each with the repository file that imports it. */
  packages: Array<{ name: string; importer: string }>;
}

/** `@scope/name/sub` → `@scope/name`; `name/sub` → `name`. */
export function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? specifier);
}

export async function importClosure(
  entry: string,
  workspaces: Record<string, string>,
): Promise<ImportClosure> {
  const files = new Set<string>();
  const packages: ImportClosure["packages"] = [];
  const pending = [resolve(repoRoot, entry)];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    const path = relative(repoRoot, file);
    if (files.has(path)) continue;
    files.add(path);
    if (!file.endsWith(".ts")) continue;
    const source = await readFile(file, "utf8");
    const specifiers = [
      ...[...source.matchAll(IMPORT)].filter((m) => !m[2]).map((m) => m[3] ?? ""),
      ...[...source.matchAll(DYNAMIC)].map((m) => m[1] ?? ""),
    ];
    for (const specifier of specifiers) {
      if (specifier.startsWith(".")) {
        pending.push(resolve(dirname(file), specifier));
      } else if (specifier.startsWith("node:") || builtinModules.includes(specifier)) {
        // Part of Node.
      } else if (workspaces[packageName(specifier)]) {
        const workspace = workspaces[packageName(specifier)] as string;
        const manifest = JSON.parse(await readFile(join(repoRoot, workspace, "package.json"), "utf8"));
        const target = typeof manifest.exports === "string" ? manifest.exports : manifest.exports?.["."];
        if (existsSync(join(repoRoot, workspace, target))) pending.push(join(repoRoot, workspace, target));
        files.add(join(workspace, "package.json"));
      } else {
        packages.push({ name: packageName(specifier), importer: path });
      }
    }
  }
  return { files: [...files].sort(), packages };
}
