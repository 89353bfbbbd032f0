import { fileURLToPath } from "node:url";

/** Path of the lifeline preload (lifeline.ts), for `node --import` in the local stack's children. */
export const lifelinePath = fileURLToPath(new URL("./lifeline.ts", import.meta.url));
