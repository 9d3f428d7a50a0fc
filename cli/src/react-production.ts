/**
 * React's production build for the dashboard's server rendering, unless the environment chose one (jest
 * sets "test"). React picks its build when first required, so main.ts imports this before any command.
 */
process.env.NODE_ENV ??= "production";
