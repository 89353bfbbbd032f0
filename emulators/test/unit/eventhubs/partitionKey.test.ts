import { describe, expect, it } from "vitest";
import { lookup3, partitionIndexForKey } from "../../../src/eventhubs/partitionKey.ts";

const utf8 = (text: string) => new TextEncoder().encode(text);

describe("partition key hashing", () => {
  it("implements lookup3 hashlittle2 (Bob Jenkins' published test vectors)", () => {
    expect(lookup3(utf8(""))).toEqual({ c: 0xdeadbeef, b: 0xdeadbeef });
    expect(lookup3(utf8("Four score and seven years ago"))).toEqual({ c: 0x17770551, b: 0xce7226e6 });
  });

  it("maps keys to the partitions Event Hubs and EventHubBufferedProducerClient assign", () => {
    // Values computed with the SDK's own key-to-partition mapping; the conformance suite also
    // checks the broker against EventHubBufferedProducerClient over the wire.
    expect(partitionIndexForKey("", 4)).toBe(0);
    expect(partitionIndexForKey("a", 32)).toBe(28);
    expect(partitionIndexForKey("abcdefghijkl", 4)).toBe(1); // exactly one 12-byte block
    expect(partitionIndexForKey("abcdefghijklm", 32)).toBe(15);
    expect(partitionIndexForKey("aci-frontend", 32)).toBe(12);
    expect(
      partitionIndexForKey(
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.App/containerApps/web",
        4,
      ),
    ).toBe(2);
  });

  it("is stable and always inside the partition range", () => {
    for (let i = 0; i < 500; i += 1) {
      const key = `device-${i}-ü`;
      const index = partitionIndexForKey(key, 7);
      expect(index).toBeGreaterThanOrEqual(0);
      expect(index).toBeLessThan(7);
      expect(partitionIndexForKey(key, 7)).toBe(index);
    }
  });
});
