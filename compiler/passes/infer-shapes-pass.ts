// infer-shapes as a pipeline step (the algorithm is in infer-shapes.ts).
import { inferShapes } from './infer-shapes.js';
import { registerPass } from './manager.js';

registerPass({
  name: 'infer-shapes',
  summary: 'give every value a type, with symbolic dims where sizes are only known at run time',
  run: (g) => {
    inferShapes(g);
    return { changed: 0 };
  },
});
