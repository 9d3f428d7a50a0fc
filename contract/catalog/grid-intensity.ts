/**
 * The dated grid carbon-intensity table behind a run's CO2e estimate: location-based grams of CO2e per
 * kWh of electricity, by AWS region (yearly averages, not the hour the run used).
 *
 * AS_OF: 2026-12-02 (compiled). Source, transcribed (the machine that compiled it had no internet):
 * - Cloud Carbon Footprint (Thoughtworks), `packages/aws/src/domain/AwsFootprintEstimationConstants.ts`
 *   (AWS_EMISSIONS_FACTORS_METRIC_TON_PER_KWH) and `packages/core` US_NERC_REGIONS_EMISSIONS_FACTORS,
 *   https://www.cloudcarbonfootprint.org/docs/methodology/#appendix-ii-grid-emissions-factors .
 *   US regions use their NERC region's EPA eGRID factor (us-east-1: SERC, us-east-2: RFC, us-west-*: WECC);
 *   the rest are country factors CCF compiled from carbonfootprint.com and the EEA.
 * - `unknown`: the mean of the listed regions, for a region that is not in the table (said so in the basis).
 *
 * Not included: PUE (facility overhead), embodied emissions, and market-based accounting (RECs, PPAs).
 */

export const GRID_INTENSITY_AS_OF = "2026-12-02";
// Source: Cloud Carbon Footprint AWS emissions factors (EPA eGRID NERC regions for US regions).

/** Grams CO2e per kWh, by AWS region. */
export const GRID_G_CO2E_PER_KWH: Readonly<Record<string, number>> = {
  "us-east-1": 365.1,
  "us-east-2": 376.1,
  "us-west-1": 298.7,
  "us-west-2": 298.7,
  "us-gov-east-1": 365.1,
  "us-gov-west-1": 298.7,
  "af-south-1": 928,
  "ap-east-1": 810,
  "ap-south-1": 708,
  "ap-northeast-1": 506,
  "ap-northeast-2": 500,
  "ap-northeast-3": 506,
  "ap-southeast-1": 408.5,
  "ap-southeast-2": 790,
  "ca-central-1": 130,
  "eu-central-1": 338,
  "eu-west-1": 316,
  "eu-west-2": 228,
  "eu-west-3": 52,
  "eu-south-1": 233,
  "eu-north-1": 8,
  "me-south-1": 732,
  "sa-east-1": 74,
};

/** Mean of the table: the figure for a region it does not list. */
export const UNKNOWN_REGION_G_CO2E_PER_KWH =
  Object.values(GRID_G_CO2E_PER_KWH).reduce((a, b) => a + b, 0) / Object.keys(GRID_G_CO2E_PER_KWH).length;

/** The intensity of a region and whether the table knew it. */
export function gridIntensity(region: string): { gPerKwh: number; known: boolean } {
  // The policy pack runs under Pulumi's ts-node, whose default lib predates Object.hasOwn.
  // biome-ignore lint/suspicious/noPrototypeBuiltins: see above
  const known = Object.prototype.hasOwnProperty.call(GRID_G_CO2E_PER_KWH, region);
  return { gPerKwh: known ? GRID_G_CO2E_PER_KWH[region] : UNKNOWN_REGION_G_CO2E_PER_KWH, known };
}
