/**
 * How much of the internet a public API endpoint allow-list opens, judged by the addresses it covers,
 * not by how the list is spelled. The one rule behind `kiln:publicAccessCidrs` (infra/config.ts) and the
 * policy pack's `eks-endpoint-access` (policy/rules/cluster.ts).
 */
import { coveredAddresses, type Cidr, IPV4_ADDRESSES, parseCidr } from "./cidr";

/** The broadest single range allowed without an acknowledgement: a /8 (16,777,216 addresses). */
export const BROADEST_PREFIX = 8;
/** Most addresses the whole list may cover without an acknowledgement: as many as one /8 (1/256 of IPv4). */
export const MAX_EXPOSED_ADDRESSES = 2 ** 24;
/**
 * The config key (and the EKS cluster's tag, where the policy pack reads it) by which a stack accepts a
 * wider endpoint: the share of IPv4, in percent, it may open. It never allows the whole internet.
 */
export const ACKNOWLEDGE_KEY = "publicAccessAcknowledgedPercent";
export const ACKNOWLEDGE_TAG = `kiln:${ACKNOWLEDGE_KEY}`;

export interface ExposureProblem {
  /** The entry it is about; undefined for the list as a whole. */
  readonly index?: number;
  readonly message: string;
}

/** `50 %`, `0.39 %`, `99.99999998 %`: enough digits that a list short of the whole internet never reads 100 %. */
export function formatShare(addresses: number): string {
  const percent = (addresses / IPV4_ADDRESSES) * 100;
  for (let digits = 2; digits < 17; digits++) {
    const text = Number(percent.toPrecision(digits));
    if ((text === 100) === (addresses === IPV4_ADDRESSES) && (text === 0) === (addresses === 0)) return `${text} %`;
  }
  return `${percent} %`;
}

function opens(addresses: number): string {
  return `opens ${formatShare(addresses)} of IPv4 (${addresses.toLocaleString("en-US")} addresses)`;
}

/**
 * Why an allow-list of canonical IPv4 CIDRs exposes too much, or [] when it does not. Entries that are not
 * canonical CIDRs are skipped (the config schema reports them). `acknowledgedPercent` lifts both bounds up
 * to that share; `/0` and a list covering every address are refused regardless.
 */
export function exposureProblems(cidrs: readonly string[], acknowledgedPercent?: number): ExposureProblem[] {
  const parsed = cidrs.map((c) => parseCidr(c));
  const valid = parsed.filter((c): c is Cidr => c !== undefined);
  const out: ExposureProblem[] = [];
  const ack = ` (or acknowledge it: kiln:${ACKNOWLEDGE_KEY} set to the share of IPv4 you mean to open, in percent)`;
  parsed.forEach((c, index) => {
    if (c?.prefix === 0)
      out.push({
        index,
        message: `'${cidrs[index]}' opens the API server to the internet (${formatShare(IPV4_ADDRESSES)} of IPv4): list your office/VPN ranges`,
      });
  });
  if (valid.length === 0 || out.length > 0) return out;
  const total = coveredAddresses(valid);
  if (total === IPV4_ADDRESSES)
    return [
      {
        message: `together, ${cidrs.join(", ")} cover every IPv4 address: that opens the API server to the internet; list your office/VPN ranges`,
      },
    ];
  if (acknowledgedPercent !== undefined) {
    if ((total / IPV4_ADDRESSES) * 100 > acknowledgedPercent)
      out.push({
        message: `the list ${opens(total)}, more than the ${acknowledgedPercent} % acknowledged by kiln:${ACKNOWLEDGE_KEY}: narrow the list or raise the acknowledgement`,
      });
    return out;
  }
  parsed.forEach((c, index) => {
    if (c && c.prefix < BROADEST_PREFIX)
      out.push({
        index,
        message: `'${cidrs[index]}' ${opens(2 ** (32 - c.prefix))}; a range may be at most a /${BROADEST_PREFIX}: list your office/VPN ranges${ack}`,
      });
  });
  if (out.length === 0 && total > MAX_EXPOSED_ADDRESSES)
    out.push({
      message: `the list ${opens(total)}; at most ${formatShare(MAX_EXPOSED_ADDRESSES)} (${MAX_EXPOSED_ADDRESSES.toLocaleString("en-US")} addresses) without an acknowledgement: list your office/VPN ranges${ack}`,
    });
  return out;
}
