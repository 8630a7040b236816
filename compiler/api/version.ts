// The package version, also printed by `pimc --version` and in bundles.
export const VERSION = '0.1.0';
