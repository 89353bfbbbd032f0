/** The local stack's ports: defaults (those of docker-compose.yml where both have the endpoint), labels, options. */

export interface DevPorts {
  servicebus: number;
  servicebusAdmin: number;
  eventhubs: number;
  arm: number;
  registry: number;
  blob: number;
  queue: number;
  table: number;
  recorder: number;
  ingest: number;
  scanner: number;
}

export interface PortSetting {
  key: keyof DevPorts;
  /** Command-line option that sets it. */
  option: string;
  label: string;
  defaultPort: number;
}

export const PORT_SETTINGS: readonly PortSetting[] = [
  { key: "servicebus", option: "--servicebus-port", label: "Service Bus emulator, AMQP", defaultPort: 5672 },
  {
    key: "servicebusAdmin",
    option: "--servicebus-admin-port",
    label: "Service Bus emulator, management API (scanctl status)",
    defaultPort: 5300,
  },
  { key: "eventhubs", option: "--eventhubs-port", label: "Event Hubs emulator, AMQP", defaultPort: 5673 },
  { key: "arm", option: "--arm-port", label: "local ARM endpoint, HTTPS", defaultPort: 8443 },
  {
    key: "registry",
    option: "--registry-port",
    label: "local OCI registry (tag → digest)",
    defaultPort: 5000,
  },
  { key: "blob", option: "--blob-port", label: "Azurite blob", defaultPort: 10000 },
  { key: "queue", option: "--queue-port", label: "Azurite queue", defaultPort: 10001 },
  { key: "table", option: "--table-port", label: "Azurite table", defaultPort: 10002 },
  { key: "recorder", option: "--recorder-port", label: "recorder: API, health, metrics", defaultPort: 8080 },
  { key: "ingest", option: "--ingest-port", label: "ingest: health, metrics", defaultPort: 8081 },
  { key: "scanner", option: "--scanner-port", label: "scanner: health, metrics", defaultPort: 8082 },
];

export const DEFAULT_PORTS: DevPorts = Object.fromEntries(
  PORT_SETTINGS.map((setting) => [setting.key, setting.defaultPort]),
) as unknown as DevPorts;
