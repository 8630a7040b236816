// Linear, MatMul, Gemm, attention: registered on import.
import './matmul.js';
import './dense.js';
import './attention.js';
