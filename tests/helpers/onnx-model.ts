// Tiny hand-made ONNX models for tests of the frontend's error handling.
import P from 'onnx-proto';

const onnx = P.onnx;
export type NodeSpec = { op: string; inputs: string[]; outputs: string[]; name?: string; domain?: string; attrs?: P.onnx.IAttributeProto[] };

export interface ModelSpec {
  inputs?: { name: string; dims: (number | string)[]; type?: number }[];
  outputs?: { name: string; dims?: (number | string)[]; type?: number }[];
  initializers?: P.onnx.ITensorProto[];
  nodes: NodeSpec[];
  opset?: number;
}

function valueInfo(name: string, dims: (number | string)[] | undefined, type = 1): P.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: type,
        shape: dims ? { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } : undefined,
      },
    },
  };
}

export function makeModel(spec: ModelSpec): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'pimc-tests',
    opsetImport: [{ domain: '', version: spec.opset ?? 17 }],
    graph: {
      name: 'test',
      input: (spec.inputs ?? []).map((i) => valueInfo(i.name, i.dims, i.type)),
      output: (spec.outputs ?? []).map((o) => valueInfo(o.name, o.dims, o.type)),
      initializer: spec.initializers ?? [],
      node: spec.nodes.map((n, i) => ({
        opType: n.op,
        input: n.inputs,
        output: n.outputs,
        name: n.name ?? `${n.op}_${i}`,
        domain: n.domain ?? '',
        attribute: n.attrs ?? [],
      })),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

export function floatTensor(name: string, dims: number[], values: number[]): P.onnx.ITensorProto {
  return { name, dims, dataType: 1, rawData: new Uint8Array(new Float32Array(values).buffer) };
}

export function externalTensor(name: string, dims: number[], location: string, offset = 0, length?: number): P.onnx.ITensorProto {
  const entries = [{ key: 'location', value: location }, { key: 'offset', value: String(offset) }];
  if (length !== undefined) entries.push({ key: 'length', value: String(length) });
  return { name, dims, dataType: 1, dataLocation: onnx.TensorProto.DataLocation.EXTERNAL, externalData: entries };
}
