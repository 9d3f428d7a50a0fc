/** Config keys and fields that are not declared, named with the one probably meant. */
import { z } from "zod";
import { nearest } from "./nearest";

/**
 * Why a raw config key cannot be read, or undefined when it is one of `declared` or another namespace's
 * (aws:region, ...). Pulumi keys are case-sensitive: `KILN:azCount` and `kiln:AzCount` are not `kiln:azCount`.
 */
export function keyProblem(key: string, project: string, declared: readonly string[]): string | undefined {
  const colon = key.indexOf(":");
  const ns = colon < 0 ? "" : key.slice(0, colon);
  const name = key.slice(colon + 1);
  const ours = ns === project || ns === "kiln";
  if (!ours && ![project.toLowerCase(), "kiln"].includes(ns.toLowerCase())) return undefined;
  // The key as far as its first separator: `gpuPools[0].maxGpus` and `azCount:junk` name gpuPools and azCount.
  const first = /^[^:.[]*/.exec(name)![0];
  const exact = declared.includes(first) ? first : undefined;
  const suggestion = exact ?? nearest(first, declared);
  const meant = suggestion ? `did you mean kiln:${suggestion}?` : `the kiln: keys are ${declared.join(", ")}`;
  if (!ours)
    return `is not a key of this project: config keys are case-sensitive and its namespace is '${project}': ${meant}`;
  if (name.includes(":") && name.startsWith(`${first}:`))
    return `has extra segments after the key: ${exact ? `write kiln:${exact}; a nested field is set with --path, e.g. pulumi config set --path 'kiln:storage.forceDestroy' true` : meant}`;
  if (!exact || name !== first) return `unknown key: ${meant} (Pulumi.yaml declares every key)`;
  return undefined;
}

/** The field names of the object schema at `path` inside `schema` (through defaults, optionals and arrays). */
export function objectFieldsAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let at: z.ZodType | undefined = schema;
  for (const segment of [...path, undefined]) {
    while (
      at instanceof z.ZodDefault ||
      at instanceof z.ZodOptional ||
      at instanceof z.ZodPrefault ||
      at instanceof z.ZodPipe
    )
      at = (at instanceof z.ZodPipe ? at.in : at.unwrap()) as z.ZodType;
    if (segment === undefined) break;
    if (at instanceof z.ZodArray && typeof segment === "number") at = at.element as z.ZodType;
    else if (at instanceof z.ZodObject) at = (at.shape as Record<string, z.ZodType>)[String(segment)];
    else return [];
  }
  return at instanceof z.ZodObject ? Object.keys(at.shape) : [];
}
