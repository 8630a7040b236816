// Normalisations, activations, element-wise, reductions, data movement: registered on import.
import './elementwise.js';
import './rowwise.js';
import './reduce.js';
import './movement.js';
import './select.js';
import './gather.js';
import './rope.js';
