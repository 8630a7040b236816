// fuse-silu (being written).
import { registerPass } from '../manager.js';

registerPass({ name: 'fuse-silu', summary: 'placeholder', run: () => ({ changed: 0 }) });
