/**
 * Auto MPG as CSV, from vega-datasets data/cars.json (406 cars, 398 with MPG; Horsepower missing for 6).
 * Year becomes the model year as a number (1970..1982); missing values are empty fields.
 * Usage: npx ts-node datasets/auto-mpg.ts [--out auto-mpg.csv]
 */
import { readFileSync } from "node:fs";
import { toCsv, writeCsvCli } from "./csv";
import { packageFile } from "./package-file";

interface Car {
  Name: string;
  Miles_per_Gallon: number | null;
  Cylinders: number | null;
  Displacement: number | null;
  Horsepower: number | null;
  Weight_in_lbs: number | null;
  Acceleration: number | null;
  Year: string;
  Origin: string;
}

export const AUTO_MPG_COLUMNS = [
  "Name",
  "Miles_per_Gallon",
  "Cylinders",
  "Displacement",
  "Horsepower",
  "Weight_in_lbs",
  "Acceleration",
  "Year",
  "Origin",
];

export function autoMpgCsv(): string {
  const cars = JSON.parse(readFileSync(packageFile("vega-datasets", "data/cars.json"), "utf8")) as Car[];
  const rows = cars.map((c) => [
    c.Name,
    c.Miles_per_Gallon,
    c.Cylinders,
    c.Displacement,
    c.Horsepower,
    c.Weight_in_lbs,
    c.Acceleration,
    new Date(c.Year).getUTCFullYear(),
    c.Origin,
  ]);
  return toCsv(AUTO_MPG_COLUMNS, rows);
}

if (require.main === module) writeCsvCli(autoMpgCsv());
