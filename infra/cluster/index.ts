export * from "./gpu-services";
export * from "./priority-classes";
export * from "./queues";
export * from "./quota-split";
export * from "./services";
export * from "./team-namespace";
export * from "./trainer-release";
export * from "./dataset-cache-volume";
