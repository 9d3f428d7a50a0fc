export * from "./external-store";
export * from "./minio";
export * from "./platform";
