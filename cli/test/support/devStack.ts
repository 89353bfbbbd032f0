/** How the tests start `scanctl dev`: the cli's entry, every port chosen by the system, so stacks run side by side. */
export const SCANCTL_BIN = new URL("../../src/bin.ts", import.meta.url).pathname;

export const EPHEMERAL_PORT_OPTIONS = [
  "--servicebus-port",
  "--servicebus-admin-port",
  "--eventhubs-port",
  "--arm-port",
  "--registry-port",
  "--blob-port",
  "--queue-port",
  "--table-port",
  "--recorder-port",
  "--ingest-port",
  "--scanner-port",
].flatMap((option) => [option, "0"]);
