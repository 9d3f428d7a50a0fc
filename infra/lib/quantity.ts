/** Kubernetes storage quantities (`20Gi`, `500M`, `1.5Ti`) as bytes, for bounds checks in the config. */

const UNITS: Readonly<Record<string, number>> = {
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
};

/** Bytes of a plain or suffixed quantity; undefined for any other form (including `m`, millibytes). */
export function quantityBytes(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(k|M|G|T|P|Ki|Mi|Gi|Ti|Pi)?$/.exec(text);
  return m ? Number(m[1]) * UNITS[m[2] ?? ""] : undefined;
}

/** `1Gi`, `100Ti`: the largest binary unit that divides `bytes`. */
export function formatBytes(bytes: number): string {
  for (const unit of ["Pi", "Ti", "Gi", "Mi", "Ki"])
    if (bytes >= UNITS[unit] && bytes % UNITS[unit] === 0) return `${bytes / UNITS[unit]}${unit}`;
  return String(bytes);
}
