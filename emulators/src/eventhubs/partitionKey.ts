/**
 * Partition keys map to partitions the way Event Hubs does: Bob Jenkins' lookup3 `hashlittle2`
 * over the key's UTF-8 bytes (seeds 0), both 32-bit results XOR-ed and narrowed to a signed 16-bit
 * value, modulo the partition count. `EventHubBufferedProducerClient` predicts partitions with the
 * same rule, so the emulator and the client agree on where a key lands.
 */

const rotate = (value: number, bits: number) => (value << bits) | (value >>> (32 - bits));

/**
 * lookup3 `hashlittle2` with both seeds 0 (public domain, Bob Jenkins 2006): the primary (c) and
 * secondary (b) 32-bit hashes.
 */
export function lookup3(data: Uint8Array): { c: number; b: number } {
  let a = (0xdeadbeef + data.length) | 0;
  let b = a;
  let c = a;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const word = (at: number) => {
    // Little-endian read of up to 4 bytes; missing bytes are zero (the tail of the last block).
    if (at + 4 <= data.length) return view.getUint32(at, true);
    let value = 0;
    for (let index = data.length - 1; index >= at; index -= 1) value = (value << 8) | (data[index] ?? 0);
    return value;
  };

  let offset = 0;
  let remaining = data.length;
  while (remaining > 12) {
    a = (a + word(offset)) | 0;
    b = (b + word(offset + 4)) | 0;
    c = (c + word(offset + 8)) | 0;
    // mix(a, b, c)
    a = (a - c) | 0;
    a ^= rotate(c, 4);
    c = (c + b) | 0;
    b = (b - a) | 0;
    b ^= rotate(a, 6);
    a = (a + c) | 0;
    c = (c - b) | 0;
    c ^= rotate(b, 8);
    b = (b + a) | 0;
    a = (a - c) | 0;
    a ^= rotate(c, 16);
    c = (c + b) | 0;
    b = (b - a) | 0;
    b ^= rotate(a, 19);
    a = (a + c) | 0;
    c = (c - b) | 0;
    c ^= rotate(b, 4);
    b = (b + a) | 0;
    offset += 12;
    remaining -= 12;
  }
  if (remaining === 0) return { c: c >>> 0, b: b >>> 0 };

  // The last 1-12 bytes, zero-padded (word() pads), then final(a, b, c).
  const tail = (at: number) => (at < data.length ? word(at) : 0);
  a = (a + tail(offset)) | 0;
  b = (b + tail(offset + 4)) | 0;
  c = (c + tail(offset + 8)) | 0;
  c ^= b;
  c = (c - rotate(b, 14)) | 0;
  a ^= c;
  a = (a - rotate(c, 11)) | 0;
  b ^= a;
  b = (b - rotate(a, 25)) | 0;
  c ^= b;
  c = (c - rotate(b, 16)) | 0;
  a ^= c;
  a = (a - rotate(c, 4)) | 0;
  b ^= a;
  b = (b - rotate(a, 14)) | 0;
  c ^= b;
  c = (c - rotate(b, 24)) | 0;
  return { c: c >>> 0, b: b >>> 0 };
}

/** The partition index (0-based) a partition key is assigned to. */
export function partitionIndexForKey(partitionKey: string, partitionCount: number): number {
  const { c, b } = lookup3(new TextEncoder().encode(partitionKey));
  const narrowed = ((c ^ b) << 16) >> 16; // keep the low 16 bits, signed
  return Math.abs(narrowed % partitionCount);
}
