// Every diagnostic pimc gives a user carries a stable code from this one table.
// Tests assert codes, scripts may match them: never renumber, only add.
//
// Message shape: `PIMCnnnn: what, where, what to do` on one line.

export const DIAGNOSTICS = {
  // 01xx: reading files
  PIMC0101: 'file not found or unreadable',
  PIMC0102: 'not an ONNX model (protobuf decode failed or file truncated)',
  PIMC0103: 'not a serialized TensorProto',
  PIMC0104: 'output path not writable',
  // 02xx: importing ONNX
  PIMC0201: 'unsupported op(s)',
  PIMC0202: 'node uses a value that is not defined',
  PIMC0203: 'graph has a cycle',
  PIMC0204: 'initializer data disagrees with its dims',
  PIMC0205: 'unsupported element type',
  PIMC0206: 'bad attribute',
  PIMC0207: 'wrong number of inputs or outputs',
  PIMC0208: 'unsupported opset',
  PIMC0209: 'graph input or output without a usable type',
  PIMC0210: 'value defined twice',
  PIMC0211: 'unsupported model feature',
  // 03xx: external data
  PIMC0301: 'external data file missing',
  PIMC0302: 'external data location escapes the model folder',
  PIMC0303: 'external data range outside the file',
  PIMC0304: 'bad external data entry',
  // 04xx: IR verifier and shape inference
  PIMC0401: 'IR verification failed',
  PIMC0402: 'shape inference failed',
  PIMC0403: 'type mismatch',
  // 05xx: textual IR
  PIMC0501: 'IR text does not parse',
  PIMC0502: 'IR text refers to an unknown value',
  PIMC0503: 'IR text has an unknown op or attribute',
  // 06xx: running graphs
  PIMC0601: 'missing or extra input',
  PIMC0602: 'input does not match the graph input',
  PIMC0603: 'op failed at run time',
  PIMC0604: 'constant data not available',
  PIMC0605: 'test data folder has no matching files',
  // 07xx: command line and options
  PIMC0701: 'bad command-line usage',
  PIMC0702: 'unknown pass or pipeline',
  PIMC0703: 'bad option value',
  // 08xx: hardware descriptions and placement files
  PIMC0801: 'unknown hardware preset',
  PIMC0802: 'hardware description is not valid JSON',
  PIMC0803: 'hardware description misses a field',
  PIMC0804: 'hardware description has a wrong value',
  PIMC0805: 'hardware description has an unknown field',
  PIMC0806: 'hardware number without a source',
  PIMC0807: 'placement file is malformed',
  PIMC0808: 'placement names an op that does not exist',
  PIMC0809: 'placement puts an op on a device that cannot run it',
  PIMC0810: 'analysis cannot bind the model to the phase asked',
  PIMC0811: 'the model does not fit the hardware\'s memory',
  // 09xx: HBM-PIM command streams, ISA and simulator faults (pseudo-channel, command index, cycle)
  PIMC0901: 'DRAM timing constraint broken',
  PIMC0902: 'row not open',
  PIMC0903: 'column command in the wrong mode',
  PIMC0904: 'CRF program runs past its entries',
  PIMC0905: 'reserved PIM opcode',
  PIMC0906: 'PIM trigger after EXIT',
  PIMC0907: 'malformed command stream',
  PIMC0908: 'bank already has an open row',
  PIMC0909: 'assembly text does not parse',
  PIMC0910: 'malformed binary stream or program',
  // 10xx: NPU programs and simulator (engine, instruction index, cycle)
  PIMC1001: 'NPU memory access out of bounds',
  PIMC1002: 'NPU access to scratchpad or memory bytes of an incomplete DMA',
  PIMC1003: 'malformed NPU instruction (shape, dtype, space or operand)',
  PIMC1004: 'NPU engines deadlock',
  PIMC1005: 'NPU engine list misses end or has instructions after it',
  PIMC1006: 'NPU gather index out of range',
  PIMC1007: 'malformed NPU binary (instruction word or program)',
  PIMC1008: 'NPU assembly text does not parse',
  PIMC1009: 'NPU program does not fit the hardware',
  // 11xx: NPU lowering (op, shape, what does not fit)
  PIMC1101: 'NPU tile does not fit in the scratchpad',
  PIMC1102: 'op shape or attribute the NPU lowering does not support',
  // 12xx: CXL-PNM descriptors, lowering and simulator (unit, descriptor index, time)
  PIMC1201: 'PNM descriptor addresses memory outside the device',
  PIMC1202: 'PNM descriptor output overlaps one of its inputs',
  PIMC1203: 'PNM instruction queue overflow',
  PIMC1204: 'malformed PNM descriptor or tensor table entry',
  PIMC1205: 'PNM assembly text does not parse',
  PIMC1206: 'op shape or attribute the PNM lowering does not support',
  // 13xx: bundles (pimc compile / pimc simulate)
  PIMC1301: 'not a pimc bundle (no readable manifest.json)',
  PIMC1302: 'bundle format version not supported',
  PIMC1303: 'bundle file missing, truncated or corrupt',
  PIMC1304: 'bundle weights refer to a model file that is missing or changed',
  PIMC1305: 'output path exists and is not a bundle',
} as const;

export type DiagnosticCode = keyof typeof DIAGNOSTICS;

/**
 * An error caused by the user's input. The CLI prints `message` on one line
 * and exits 2; anything that is not a PimcError is an internal error (exit 3).
 */
export class PimcError extends Error {
  readonly code: DiagnosticCode;
  readonly detail: string;

  constructor(code: DiagnosticCode, detail: string) {
    super(`${code}: ${oneLine(detail)}`);
    this.name = 'PimcError';
    this.code = code;
    this.detail = detail;
  }
}

export function fail(code: DiagnosticCode, detail: string): never {
  throw new PimcError(code, detail);
}

export function isPimcError(e: unknown): e is PimcError {
  return e instanceof PimcError;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ');
}

/** Quotes a name for a message: node "x", file "y". */
export function q(s: string): string {
  return JSON.stringify(s);
}
