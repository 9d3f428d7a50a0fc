/** Tags every taggable AWS resource of a stack carries (explicit, so tests under mocks can check them). */
import { KilnConfig } from "../config";

export type Tags = Readonly<Record<string, string>>;

/** `kiln:cluster`, `kiln:stack`, the user's `kiln:tags`, then `extra` (e.g. `Name`, discovery tags). */
export function kilnTags(config: KilnConfig, extra: Tags = {}): Record<string, string> {
  return { ...config.tags, "kiln:cluster": config.clusterName, "kiln:stack": config.stack, ...extra };
}
