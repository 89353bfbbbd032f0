#!/usr/bin/env node
// Runs the benchmarks: every bench/*.bench.ts, or those whose names contain the arguments
// (`npm run bench -- servicebus`). Each runs in its own process and prints its own numbers;
// benchmarks assert nothing.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(here)
  .filter((name) => name.endsWith(".bench.ts"))
  .filter((name) => filters.length === 0 || filters.some((filter) => name.includes(filter)))
  .sort();
if (files.length === 0) {
  console.error(filters.length ? `no benchmark matches ${filters.join(", ")}` : "no benchmarks yet");
  process.exit(filters.length ? 2 : 0);
}
let failed = 0;
for (const file of files) {
  console.log(`\n== ${file}`);
  const result = spawnSync(process.execPath, [join(here, file)], { stdio: "inherit" });
  if (result.status !== 0) failed += 1;
}
process.exit(failed > 0 ? 1 : 0);
