// fuse-kv-cache (being written).
import { registerPass } from '../manager.js';

registerPass({ name: 'fuse-kv-cache', summary: 'placeholder', run: () => ({ changed: 0 }) });
