/**
 * A fixed set of strings looked up by bytes: get(buf, s, e) is the index of buf.toString("latin1", s, e) in the
 * set, without making that string (pass 2 reads a category or a label per record). A string with a character
 * beyond latin1 is no latin1 decoding of any bytes: it is never found, as with the string lookup.
 */
export class ByteKeys {
  /** By hash of the bytes: each key's bytes and index (more than one only on a hash collision). */
  private readonly byHash = new Map<number, { readonly bytes: Buffer; index: number }[]>();

  constructor(keys: readonly string[]) {
    keys.forEach((key, index) => {
      if (!/^[\0-\xff]*$/.test(key)) return;
      const bytes = Buffer.from(key, "latin1");
      const h = hashBytes(bytes, 0, bytes.length);
      const same = this.byHash.get(h) ?? [];
      this.byHash.set(h, same);
      // Of equal keys the last one's index stays, as in a Map built from [key, index] pairs.
      const equal = same.find((k) => equalBytes(k.bytes, bytes, 0, bytes.length));
      if (equal) equal.index = index;
      else same.push({ bytes, index });
    });
  }

  get(buf: Buffer, s: number, e: number): number | undefined {
    const same = this.byHash.get(hashBytes(buf, s, e));
    if (!same) return undefined;
    for (const { bytes, index } of same) if (equalBytes(bytes, buf, s, e)) return index;
    return undefined;
  }
}

/** FNV-1a over buf[s, e). */
function hashBytes(buf: Uint8Array, s: number, e: number): number {
  let h = 0x811c9dc5;
  for (let i = s; i < e; i++) h = Math.imul(h ^ buf[i], 0x01000193);
  return h >>> 0;
}

function equalBytes(a: Uint8Array, buf: Uint8Array, s: number, e: number): boolean {
  if (a.length !== e - s) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== buf[s + i]) return false;
  return true;
}
