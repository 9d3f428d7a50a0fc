/** Kubernetes storage quantities (`20Gi`, `500M`, `1.5Ti`) as bytes, for bounds checks in the config. */
import { parseQuantity } from "../../trainer-image/src/api";

/** The storage forms: a plain or suffixed non-negative number; no `m` (millibytes), sign or exponent. */
const STORAGE = /^\d+(?:\.\d+)?(?:k|M|G|T|P|Ki|Mi|Gi|Ti|Pi)?$/;

/** Bytes of a plain or suffixed quantity (the units are Kubernetes', parsed by the one quantity parser). */
export function quantityBytes(text: string): number | undefined {
  return STORAGE.test(text) ? parseQuantity(text) : undefined;
}

/** `1Gi`, `100Ti`: the largest binary unit that divides `bytes`. */
export function formatBytes(bytes: number): string {
  for (const unit of ["Pi", "Ti", "Gi", "Mi", "Ki"]) {
    const size = parseQuantity(`1${unit}`);
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}
