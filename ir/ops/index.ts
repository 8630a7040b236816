// Loads every op definition (each file registers its ops when imported).
// Elementwise arithmetic and math
import './arithmetic.js';
import './unary.js';
import './compare-select.js';
import './cast.js';
// Tensors from nothing, identity
import './constant.js';
import './generate.js';
import './identity.js';
// Shapes and data movement
import './shape.js';
import './transpose.js';
import './concat-split.js';
import './slice.js';
import './gather.js';
import './squeeze.js';
import './expand.js';
// Compute
import './matmul.js';
import './gemm.js';
import './einsum.js';
import './softmax.js';
import './normalization.js';
import './reduce.js';
import './rotary.js';
import './attention.js';
// The compiler's own transformer ops (made by fusion)
import './pimc/index.js';
