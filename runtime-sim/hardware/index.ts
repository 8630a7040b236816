// Hardware descriptions: presets and user files, validated (HARDWARE.md).
export * from './types.js';
export { loadHardware, presetNames } from './load.js';
export { HARDWARE_SCHEMA } from './schema.js';
