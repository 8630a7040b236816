#!/usr/bin/env python3
"""Rewrites the test data of the six bfloat16 Cast/CastLike node tests.

ONNX 1.12 (the version Debian packages) generated these cases with three
defects, since corrected upstream:
  1. bfloat16 tensors were written as UINT16 TensorProtos holding the bits;
  2. float32 -> bfloat16 expectations were made by truncation, while the Cast
     spec settles on round-to-nearest-even (onnx/onnx#3876, #5004, #8293) and
     onnxruntime rounds;
  3. CastLike's `like` input was written with shape [1] against a declared
     [3, 4].
This script keeps every value that was right and fixes only those three:
bits are kept and relabelled BFLOAT16, float32 -> bfloat16 results are
recomputed from the float32 inputs with round-to-nearest-even, and `like` is
given the declared shape (CastLike reads only its element type).
Run once with /usr/bin/python3 (python3-onnx, numpy); it is idempotent.
"""
import os
import numpy as np
from onnx import TensorProto, load, load_tensor, save_tensor

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = [
    'test_cast_BFLOAT16_to_FLOAT', 'test_cast_FLOAT_to_BFLOAT16',
    'test_castlike_BFLOAT16_to_FLOAT', 'test_castlike_BFLOAT16_to_FLOAT_expanded',
    'test_castlike_FLOAT_to_BFLOAT16', 'test_castlike_FLOAT_to_BFLOAT16_expanded',
]


def rne_bf16_bits(f32):
    bits = f32.astype(np.float32).view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    nan = np.isnan(f32)
    rounded[nan] = ((bits[nan] >> 16) | 0x40)
    return rounded.astype(np.uint16)


def bf16_tensor(name, dims, bits):
    t = TensorProto()
    t.name = name
    t.data_type = TensorProto.BFLOAT16
    t.dims.extend(dims)
    t.raw_data = bits.astype('<u2').tobytes()
    return t


def raw_values(t, dtype):
    if t.raw_data:
        return np.frombuffer(t.raw_data, dtype=dtype).copy()
    if dtype == np.float32:
        return np.array(t.float_data, dtype=np.float32)
    return np.array(t.int32_data, dtype=np.uint32).astype(dtype)


for case in CASES:
    model = load(os.path.join(HERE, case, 'model.onnx'))
    declared = {v.name: v for v in list(model.graph.input) + list(model.graph.output)}
    folder = os.path.join(HERE, case, 'test_data_set_0')
    inputs = {}
    for f in sorted(os.listdir(folder)):
        path = os.path.join(folder, f)
        t = load_tensor(path)
        want = declared[t.name].type.tensor_type
        dims = [d.dim_value for d in want.shape.dim]
        if f.startswith('input'):
            if want.elem_type == TensorProto.BFLOAT16:
                bits = raw_values(t, np.uint16) if t.data_type != TensorProto.BFLOAT16 else raw_values(t, np.uint16)
                if list(t.dims) != dims:  # the `like` input: only its type matters
                    bits = np.full(int(np.prod(dims)), 0x3F80, dtype=np.uint16)
                t = bf16_tensor(t.name, dims, bits)
            elif list(t.dims) != dims:
                t2 = TensorProto()
                t2.CopyFrom(t)
                del t2.dims[:]
                t2.dims.extend(dims)
                t2.ClearField('raw_data')
                t2.ClearField('float_data')
                t2.raw_data = np.ones(int(np.prod(dims)), dtype=np.float32).tobytes()
                t = t2
            if t.data_type == TensorProto.FLOAT:
                inputs[f] = raw_values(t, np.float32)
            save_tensor(t, path)
        elif want.elem_type == TensorProto.BFLOAT16:
            source = inputs['input_0.pb']
            save_tensor(bf16_tensor(t.name, dims, rne_bf16_bits(source)), path)
    print('fixed', case)
