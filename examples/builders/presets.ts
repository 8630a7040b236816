// Model shapes: the three families and named size presets.

export type Family = 'gpt2' | 'bert' | 'llama';

export interface ModelConfig {
  family: Family;
  layers: number;
  dModel: number;
  heads: number;
  /** Key/value heads (grouped-query attention when fewer than `heads`); = heads for gpt2/bert. */
  kvHeads: number;
  /** Feed-forward (intermediate) size. */
  ffn: number;
  vocab: number;
  /** Position-embedding rows (gpt2/bert) or RoPE table rows (llama); also the causal-mask buffer size. */
  maxPositions: number;
  /** LayerNorm / RMSNorm epsilon. */
  normEps: number;
  /** RoPE base (llama). */
  ropeTheta: number;
  /** Token-type vocabulary (bert). */
  typeVocab: number;
}

export type PresetName =
  | 'gpt2-tiny' | 'gpt2-small'
  | 'bert-tiny' | 'bert-base'
  | 'llama-tiny' | 'llama-gqa-small' | 'llama2-7b' | 'midm-7b';

const DEFAULTS: Record<Family, Pick<ModelConfig, 'normEps' | 'ropeTheta' | 'typeVocab'>> = {
  gpt2: { normEps: 1e-5, ropeTheta: 10000, typeVocab: 0 },
  bert: { normEps: 1e-12, ropeTheta: 10000, typeVocab: 2 },
  llama: { normEps: 1e-6, ropeTheta: 10000, typeVocab: 0 },
};

type Shape = Omit<ModelConfig, 'normEps' | 'ropeTheta' | 'typeVocab'> & Partial<ModelConfig>;

function preset(s: Shape): ModelConfig {
  return { ...DEFAULTS[s.family], ...s };
}

export const PRESETS: Record<PresetName, ModelConfig> = {
  // Test-sized models: a few hundred KB, inline weights.
  'gpt2-tiny': preset({ family: 'gpt2', layers: 2, dModel: 64, heads: 2, kvHeads: 2, ffn: 256, vocab: 128, maxPositions: 32 }),
  'bert-tiny': preset({ family: 'bert', layers: 2, dModel: 64, heads: 2, kvHeads: 2, ffn: 256, vocab: 128, maxPositions: 32 }),
  'llama-tiny': preset({ family: 'llama', layers: 2, dModel: 64, heads: 4, kvHeads: 2, ffn: 172, vocab: 128, maxPositions: 64 }),
  // GPT-2 small (124M) and BERT-base (110M), as in their HF configs.
  'gpt2-small': preset({ family: 'gpt2', layers: 12, dModel: 768, heads: 12, kvHeads: 12, ffn: 3072, vocab: 50257, maxPositions: 1024 }),
  'bert-base': preset({ family: 'bert', layers: 12, dModel: 768, heads: 12, kvHeads: 12, ffn: 3072, vocab: 30522, maxPositions: 512 }),
  // A small grouped-query model: 8 query heads share 2 key/value heads.
  'llama-gqa-small': preset({ family: 'llama', layers: 4, dModel: 512, heads: 8, kvHeads: 2, ffn: 1376, vocab: 1000, maxPositions: 256 }),
  // LLaMA-2-7B (HF config: rms_norm_eps 1e-5, 4096 positions).
  'llama2-7b': preset({ family: 'llama', layers: 32, dModel: 4096, heads: 32, kvHeads: 32, ffn: 11008, vocab: 32000, maxPositions: 4096, normEps: 1e-5 }),
  // Mi:dm-7B, LLaMA-shaped: 32 layers, d 4096, FFN 10880, 32 heads, vocab 72154.
  'midm-7b': preset({ family: 'llama', layers: 32, dModel: 4096, heads: 32, kvHeads: 32, ffn: 10880, vocab: 72154, maxPositions: 2048, normEps: 1e-5 }),
};

export function isPresetName(s: string): s is PresetName {
  return Object.prototype.hasOwnProperty.call(PRESETS, s);
}

/** Size fields that may override a preset (or define a model without one). */
export interface SizeOptions {
  layers?: number;
  dModel?: number;
  heads?: number;
  kvHeads?: number;
  ffn?: number;
  vocab?: number;
  maxPositions?: number;
  normEps?: number;
  ropeTheta?: number;
  typeVocab?: number;
}

/**
 * The config for a family / preset with explicit sizes on top. Without a
 * preset, layers, dModel, heads and vocab are required; ffn defaults to 4*d
 * (gpt2/bert) or LLaMA's 2/3*4d rounded up to 256 (llama); kvHeads to heads;
 * maxPositions to 1024 (gpt2), 512 (bert) or 2048 (llama).
 */
export function resolveConfig(family: Family | undefined, presetName: string | undefined, sizes: SizeOptions): ModelConfig {
  let base: Partial<ModelConfig> = {};
  if (presetName !== undefined) {
    if (!isPresetName(presetName)) {
      throw new Error(`unknown preset "${presetName}"; known: ${Object.keys(PRESETS).join(', ')}`);
    }
    base = PRESETS[presetName];
    if (family !== undefined && family !== base.family) {
      throw new Error(`preset "${presetName}" is a ${base.family} model, not ${family}`);
    }
  }
  const fam = family ?? base.family;
  if (fam === undefined) throw new Error('give a family (gpt2, bert, llama) or a preset');
  const defined = Object.fromEntries(Object.entries(sizes).filter(([, v]) => v !== undefined)) as SizeOptions;
  const m: Partial<ModelConfig> = { ...DEFAULTS[fam], ...base, ...defined, family: fam };
  for (const k of ['layers', 'dModel', 'heads', 'vocab'] as const) {
    if (m[k] === undefined) throw new Error(`${k} is required when no preset gives it`);
  }
  const d = m.dModel!;
  if (fam === 'llama') m.kvHeads ??= m.heads;
  else m.kvHeads = defined.kvHeads ?? m.heads;
  m.ffn ??= fam === 'llama' ? Math.ceil((2 * 4 * d) / 3 / 256) * 256 : 4 * d;
  m.maxPositions ??= fam === 'gpt2' ? 1024 : fam === 'bert' ? 512 : 2048;
  const cfg = m as ModelConfig;
  validateConfig(cfg);
  return cfg;
}

export function validateConfig(c: ModelConfig): void {
  const positive = ['layers', 'dModel', 'heads', 'kvHeads', 'ffn', 'vocab', 'maxPositions'] as const;
  for (const k of positive) {
    if (!Number.isSafeInteger(c[k]) || c[k] <= 0) throw new Error(`${k} must be a positive integer, got ${c[k]}`);
  }
  if (c.dModel % c.heads !== 0) throw new Error(`dModel ${c.dModel} is not a multiple of heads ${c.heads}`);
  if (c.heads % c.kvHeads !== 0) throw new Error(`heads ${c.heads} is not a multiple of kvHeads ${c.kvHeads}`);
  if (c.family !== 'llama' && c.kvHeads !== c.heads) throw new Error(`${c.family} has no grouped-query attention: kvHeads must equal heads`);
  if (c.family === 'llama' && (c.dModel / c.heads) % 2 !== 0) throw new Error(`RoPE needs an even head size, got ${c.dModel / c.heads}`);
}

/** Head size. */
export const headDim = (c: ModelConfig): number => c.dModel / c.heads;
