// The compiler's own transformer ops (domain "pimc"), made by the fusion passes.
import './linear.js';
import './norms.js';
import './activations.js';
import './rope.js';
import './kv-cache.js';
import './attention.js';
