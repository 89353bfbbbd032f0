// Local stand-ins for Azure and Qualys, for development and tests only. Each emulator is usable
// in-process (tests) and from `npm run emulators`.
export * from "./azurite/azurite.ts";
