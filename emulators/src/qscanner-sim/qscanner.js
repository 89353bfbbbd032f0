#!/usr/bin/env node
// The qscanner simulator's executable. Plain JavaScript so it can turn on Node's compile cache
// before the TypeScript is loaded: the scanner starts one simulator per scan, and without the cache
// every run strips and compiles qscanner.ts and simulation.ts again.
import { enableCompileCache } from "node:module";

enableCompileCache();
await import("./qscanner.ts");
