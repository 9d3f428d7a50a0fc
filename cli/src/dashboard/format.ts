/** Display formats shared by the pages. */
import { formatAge } from "../output";

export const age = (iso: string | null, now: Date) => (iso ? formatAge(iso, now) : "-");
export const fixed = (v: number | null | undefined, digits: number) =>
  v === null || v === undefined || !Number.isFinite(v) ? "-" : v.toFixed(digits);
export const usd = (v: number | null | undefined) => (v === null || v === undefined ? "-" : `$${v.toFixed(2)}`);
