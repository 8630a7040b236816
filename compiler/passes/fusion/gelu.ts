// fuse-gelu (being written).
import { registerPass } from '../manager.js';

registerPass({ name: 'fuse-gelu', summary: 'placeholder', run: () => ({ changed: 0 }) });
