/** Tags every taggable AWS resource of a stack carries (explicit, so tests under mocks can check them). */
import type { KilnConfig } from "../config";

export type Tags = Readonly<Record<string, string>>;

/** Tag key prefixes no user tag may use: Kiln's own (`kiln:cluster`, ...) and AWS's (reserved by AWS). */
export const RESERVED_TAG_PREFIXES = ["kiln:", "aws:"] as const;
/** Tag keys Kiln writes itself on some resources (Name on all, the load-balancer and Karpenter discovery tags on subnets). */
export const KILN_SET_TAG_KEYS = [
  "Name",
  "kubernetes.io/role/elb",
  "kubernetes.io/role/internal-elb",
  "karpenter.sh/discovery",
] as const;

/** Why a user tag key would be refused by AWS or silently replaced by Kiln, or undefined. */
export function reservedTagProblem(key: string): string | undefined {
  const lower = key.trim().toLowerCase();
  for (const prefix of RESERVED_TAG_PREFIXES)
    if (lower.startsWith(prefix))
      return `tag keys starting with '${prefix}' (in any case) are ${prefix === "aws:" ? "reserved by AWS" : "Kiln's own (kiln:cluster, kiln:stack, ...)"}: rename the tag`;
  if ((KILN_SET_TAG_KEYS as readonly string[]).includes(key.trim()))
    return `Kiln sets the tag '${key.trim()}' itself, so yours would be replaced: rename the tag`;
  return undefined;
}

/** `kiln:cluster`, `kiln:stack`, the user's `kiln:tags`, then `extra` (e.g. `Name`, discovery tags). */
export function kilnTags(config: KilnConfig, extra: Tags = {}): Record<string, string> {
  return { ...config.tags, "kiln:cluster": config.clusterName, "kiln:stack": config.stack, ...extra };
}
