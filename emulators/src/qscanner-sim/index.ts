import { fileURLToPath } from "node:url";

/** Path of the qscanner simulator executable, for QSCANNER_PATH in tests and the local stack. */
export const qscannerSimulatorPath = fileURLToPath(new URL("./qscanner.js", import.meta.url));

export { behaviourFor, SIMULATOR_VERSION, simulatedImage } from "./simulation.ts";
