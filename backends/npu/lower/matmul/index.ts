// Linear, MatMul, Gemm, attention: registered on import.
export {};
