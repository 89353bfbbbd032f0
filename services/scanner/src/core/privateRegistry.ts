/**
 * Registries on loopback, link-local or private addresses are refused unless the operator names
 * them: an image reference comes from whoever may deploy a container, and qscanner would
 * otherwise send requests into the scanner's own network (the instance metadata endpoint at
 * 169.254.169.254, internal services). Decided on the reference alone, before any network call:
 * a public name that DNS resolves to a private address is not caught here.
 */

const ALLOWED_PRIVATE_REGISTRIES_SETTING = "SCANNER_ALLOWED_PRIVATE_REGISTRIES";

/**
 * Why `registry` (canonical `host[:port]`, as in an image reference) must not be contacted, or
 * `undefined` when it may be. `allowed` holds lower-case `host` (any port) or `host:port` entries.
 */
export function privateRegistryRefusal(registry: string, allowed: readonly string[]): string | undefined {
  const what = privateAddressKind(registry);
  if (what === undefined) return undefined;
  const host = registry.replace(/:\d+$/, "");
  if (allowed.includes(registry) || allowed.includes(host)) return undefined;
  return `registry ${registry} is ${what}; the scanner contacts such a registry only when ${ALLOWED_PRIVATE_REGISTRIES_SETTING} names it`;
}

function privateAddressKind(registry: string): string | undefined {
  let hostname: string;
  try {
    // The WHATWG parser normalises every IPv4 spelling (127.1, 2130706433, 0x7f.0.0.1) and IPv6.
    hostname = new URL(`http://${registry}/`).hostname.replace(/\.$/, "");
  } catch {
    return "not a host name that can be checked";
  }
  if (hostname.startsWith("[")) return ipv6Kind(hostname.slice(1, -1));
  const ipv4 = parseIpv4(hostname);
  if (ipv4 !== undefined) return ipv4Kind(ipv4);
  if (hostname === "localhost" || hostname.endsWith(".localhost")) return "a loopback name";
  if (!hostname.includes(".")) return "a single-label name, resolved only inside a private network";
  if (/\.(local|internal|home\.arpa)$/.test(hostname)) return "a name reserved for private networks";
  return undefined;
}

/** IPv4 ranges that are not public unicast: [network address as a number, prefix length, what]. */
const IPV4_RANGES: ReadonlyArray<readonly [number, number, string]> = [
  [0x00000000, 8, "an unspecified address (0.0.0.0/8 reaches this host)"],
  [0x0a000000, 8, "a private address (10.0.0.0/8)"],
  [0x64400000, 10, "a shared address (100.64.0.0/10)"],
  [0x7f000000, 8, "a loopback address (127.0.0.0/8)"],
  [0xa9fe0000, 16, "a link-local address (169.254.0.0/16, the instance metadata endpoint)"],
  [0xac100000, 12, "a private address (172.16.0.0/12)"],
  [0xc0a80000, 16, "a private address (192.168.0.0/16)"],
];

function parseIpv4(hostname: string): number | undefined {
  const octets = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(hostname);
  if (!octets) return undefined;
  return octets.slice(1).reduce((address, octet) => address * 256 + Number(octet), 0);
}

function ipv4Kind(address: number): string | undefined {
  for (const [network, prefix, what] of IPV4_RANGES) {
    const size = 2 ** (32 - prefix);
    if (Math.floor(address / size) === Math.floor(network / size)) return what;
  }
  return undefined;
}

/** `text`: the normalised address between the brackets (hex groups, `::` compression). */
function ipv6Kind(text: string): string | undefined {
  const groups = expandIpv6(text);
  if (groups === undefined) return "not an IPv6 address that can be checked";
  const [first = 0] = groups;
  const zeros = (from: number, to: number) => groups.slice(from, to).every((group) => group === 0);
  const embeddedIpv4 = () => ((groups[6] ?? 0) * 0x10000 + (groups[7] ?? 0)) >>> 0;
  if (zeros(0, 7) && groups[7] === 1) return "a loopback address (::1)";
  if (zeros(0, 8)) return "an unspecified address (::)";
  if ((first & 0xfe00) === 0xfc00) return "a unique local address (fc00::/7)";
  if ((first & 0xffc0) === 0xfe80) return "a link-local address (fe80::/10)";
  if ((first & 0xffc0) === 0xfec0) return "a site-local address (fec0::/10)";
  // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) carry an IPv4 address.
  const mapped = zeros(0, 5) && (groups[5] === 0xffff || groups[5] === 0);
  const nat64 = first === 0x64 && groups[1] === 0xff9b && zeros(2, 6);
  if (mapped || nat64) {
    const inner = ipv4Kind(embeddedIpv4());
    return inner && `an IPv6 address that embeds ${inner}`;
  }
  return undefined;
}

function expandIpv6(text: string): number[] | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const parse = (part: string) =>
    part === "" ? [] : part.split(":").map((group) => Number.parseInt(group, 16));
  const head = parse(halves[0] ?? "");
  const tail = halves.length === 2 ? parse(halves[1] ?? "") : [];
  const missing = 8 - head.length - tail.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return undefined;
  const groups = [...head, ...Array<number>(missing).fill(0), ...tail];
  return groups.every((group) => Number.isInteger(group) && group >= 0 && group <= 0xffff)
    ? groups
    : undefined;
}
