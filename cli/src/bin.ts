#!/usr/bin/env node
// scanctl: the operator's command. Until the local stack lands (issue "npm start"), `dev` says what it will do.
const [command] = process.argv.slice(2);
if (command === "dev") {
  console.log(
    [
      "npm start will run the whole pipeline on this machine without Docker:",
      "  Azurite, the Service Bus / Event Hubs emulator, a local ARM endpoint and the qscanner simulator,",
      "  then services/ingest, services/scanner and services/recorder, and replay the bundled example events.",
      "It is not built yet: see the open issues (`issues`). Today: `npm test` runs the test suite.",
    ].join("\n"),
  );
  process.exit(0);
}
console.error("usage: scanctl dev");
process.exit(2);
