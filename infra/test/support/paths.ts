import { fileURLToPath } from "node:url";

/** Repository root (this file is infra/test/support/paths.ts). */
export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
export const infraDir = fileURLToPath(new URL("../../", import.meta.url));
