/** Kubernetes resource quantities for the dashboard: parsed by the trainer's parser, formatted per resource. */
export { parseQuantity } from "../../../trainer-image/src/api";

/** A quantity for display in the unit of its resource: GiB for memory, cores for cpu, a count otherwise. */
export function formatQuantity(resource: string, value: number): string {
  if (!Number.isFinite(value)) return "?";
  if (resource === "memory") return `${+(value / 2 ** 30).toFixed(1)}Gi`;
  return String(+value.toFixed(3));
}
