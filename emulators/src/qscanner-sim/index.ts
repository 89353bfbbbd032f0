import { fileURLToPath } from "node:url";

/** Path of the standalone qscanner simulator (a Node process per run), for QSCANNER_PATH. */
export const qscannerSimulatorPath = fileURLToPath(new URL("./qscanner.js", import.meta.url));

export { type ResidentQscannerSimulator, startQscannerSimulator } from "./server.ts";
export { behaviourFor, SIMULATOR_VERSION, simulatedImage } from "./simulation.ts";
