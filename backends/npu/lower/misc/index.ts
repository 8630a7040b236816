// Normalisations, activations, element-wise, reductions, data movement: registered on import.
export {};
