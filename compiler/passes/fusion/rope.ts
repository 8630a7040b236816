// fuse-rope (being written).
import { registerPass } from '../manager.js';

registerPass({ name: 'fuse-rope', summary: 'placeholder', run: () => ({ changed: 0 }) });
