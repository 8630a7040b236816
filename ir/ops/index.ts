// Loads every op definition (each file registers its ops when imported).
import './arithmetic.js';
import './shape.js';
import './constant.js';
