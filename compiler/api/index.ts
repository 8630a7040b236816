// The programmatic API: the same functions the CLI calls, typed.
export * from '../../ir/index.js';
export { printGraph, type PrintOptions } from '../../ir/printer.js';
export { parseGraph, type ParseOptions } from '../../ir/parser.js';
export { importOnnxFile, importOnnxBytes, type ImportOptions } from '../frontend/onnx-import.js';
export { decodeTensorFile, encodeTensorFile } from '../frontend/tensor-proto.js';
export { inferShapes } from '../passes/infer-shapes.js';
export { runPasses, lookupPass, allPasses, type Pass, type PassTiming, type PipelineOptions } from '../passes/manager.js';
export { PIPELINES, pipeline } from '../passes/pipelines.js';
export { runGraph, type RunOptions, type RunResult } from '../reference/interpreter.js';
export { readTensors, compareTensor, type Tolerance } from '../reference/test-data.js';
export { runConformance, runCase, findCases, readExclusions, type CaseResult, type ConformanceReport } from '../conformance/conformance.js';
export { loadModel, STAGES, type Stage, type LoadedModel, type LoadOptions } from './model.js';
export { runModel, RUN_CHECK_TOLERANCE, type RunModelOptions, type RunReport, type OutputReport } from './run.js';
export { demo, type DemoReport } from './demo.js';
export { analyzeModel, readPlacementFile, ANALYZE_SCHEMA, type AnalyzeOptions, type AnalyzeReport, type ScenarioReport, type OpReport } from './analyze.js';
export { loadHardware, presetNames, devicesOf, type Hardware, type Device } from '../../runtime-sim/hardware/index.js';
export { runCli } from '../cli/main.js';
export { VERSION } from './version.js';
