// fuse-attention (being written).
import { registerPass } from '../manager.js';

registerPass({ name: 'fuse-attention', summary: 'placeholder', run: () => ({ changed: 0 }) });
