// fuse-linear (being written).
import { registerPass } from '../manager.js';

registerPass({ name: 'fuse-linear', summary: 'placeholder', run: () => ({ changed: 0 }) });
