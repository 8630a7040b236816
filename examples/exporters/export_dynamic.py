#!/usr/bin/env python3
"""Exports small GPT-2- and LLaMA-style models with PyTorch's own exporter
(torch.onnx.export, opset 17) with *dynamic* batch and sequence dims, plus
reference outputs computed by PyTorch eager on CPU.

These are the project's exporter-made models with symbolic dims: the shape
subgraphs the exporter writes for dynamic axes (Shape -> Gather -> Unsqueeze
-> Concat -> Reshape, Range over Shape, ...) cannot be folded away, so the
frontend, shape inference and interpreter must carry symbols.

Run with Debian's python3-torch and python3-onnx (not needed by pimc itself):
    /usr/bin/python3 examples/exporters/export_dynamic.py
Writes examples/models/{gpt2,llama}_dynamic_{prefill,decode}/ with
test_data_set_0 and test_data_set_1 at different batch and sequence sizes.
"""
import math
import os

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import numpy_helper

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'models')
torch.manual_seed(0)


# ---------------------------------------------------------------- GPT-2 style
class Gpt2Block(nn.Module):
    def __init__(self, d, heads, maxpos):
        super().__init__()
        self.heads, self.hd = heads, d // heads
        self.ln_1 = nn.LayerNorm(d)
        self.c_attn = nn.Linear(d, 3 * d)
        self.c_proj = nn.Linear(d, d)
        self.ln_2 = nn.LayerNorm(d)
        self.fc = nn.Linear(d, 4 * d)
        self.proj = nn.Linear(4 * d, d)
        self.register_buffer('bias', torch.tril(torch.ones(maxpos, maxpos, dtype=torch.bool)).view(1, 1, maxpos, maxpos))

    def split_heads(self, x):
        b, s, _ = x.size()
        return x.view(b, s, self.heads, self.hd).transpose(1, 2)

    def forward(self, x, past_k=None, past_v=None):
        h = self.ln_1(x)
        q, k, v = self.c_attn(h).split(x.size(-1), dim=2)
        q, k, v = self.split_heads(q), self.split_heads(k), self.split_heads(v)
        if past_k is not None:
            k = torch.cat([past_k, k], dim=2)
            v = torch.cat([past_v, v], dim=2)
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.hd)
        qlen, klen = q.size(-2), k.size(-2)
        mask = self.bias[:, :, klen - qlen:klen, :klen]
        scores = torch.where(mask, scores, torch.tensor(torch.finfo(scores.dtype).min))
        a = torch.matmul(scores.softmax(dim=-1), v)
        b, _, s, _ = a.size()
        a = a.transpose(1, 2).contiguous().view(b, s, self.heads * self.hd)
        x = x + self.c_proj(a)
        x = x + self.proj(F.gelu(self.fc(self.ln_2(x)), approximate='tanh'))
        return x, k, v


class Gpt2(nn.Module):
    def __init__(self, layers=2, d=64, heads=4, vocab=256, maxpos=64):
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(maxpos, d)
        self.h = nn.ModuleList([Gpt2Block(d, heads, maxpos) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(d)

    def forward(self, input_ids, *past):
        past_len = past[0].size(2) if past else 0
        pos = torch.arange(past_len, past_len + input_ids.size(1), dtype=torch.long).unsqueeze(0)
        x = self.wte(input_ids) + self.wpe(pos)
        presents = []
        for i, blk in enumerate(self.h):
            x, k, v = blk(x, *(past[2 * i:2 * i + 2] if past else (None, None)))
            presents += [k, v]
        logits = torch.matmul(self.ln_f(x), self.wte.weight.t())
        return (logits, *presents)


# ---------------------------------------------------------------- LLaMA style
class RmsNorm(nn.Module):
    def __init__(self, d, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d) + 0.1 * torch.randn(d))
        self.eps = eps

    def forward(self, x):
        var = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(var + self.eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class LlamaBlock(nn.Module):
    def __init__(self, d, heads, kv_heads, ffn):
        super().__init__()
        self.heads, self.kv, self.hd = heads, kv_heads, d // heads
        self.input_layernorm = RmsNorm(d)
        self.q_proj = nn.Linear(d, heads * self.hd, bias=False)
        self.k_proj = nn.Linear(d, kv_heads * self.hd, bias=False)
        self.v_proj = nn.Linear(d, kv_heads * self.hd, bias=False)
        self.o_proj = nn.Linear(heads * self.hd, d, bias=False)
        self.post_attention_layernorm = RmsNorm(d)
        self.gate_proj = nn.Linear(d, ffn, bias=False)
        self.up_proj = nn.Linear(d, ffn, bias=False)
        self.down_proj = nn.Linear(ffn, d, bias=False)

    def forward(self, x, cos, sin, mask, past_k=None, past_v=None):
        b, s, _ = x.size()
        h = self.input_layernorm(x)
        q = self.q_proj(h).view(b, s, self.heads, self.hd).transpose(1, 2)
        k = self.k_proj(h).view(b, s, self.kv, self.hd).transpose(1, 2)
        v = self.v_proj(h).view(b, s, self.kv, self.hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if past_k is not None:
            k = torch.cat([past_k, k], dim=2)
            v = torch.cat([past_v, v], dim=2)
        rep = self.heads // self.kv
        kk = k[:, :, None, :, :].expand(b, self.kv, rep, k.size(2), self.hd).reshape(b, self.heads, k.size(2), self.hd)
        vv = v[:, :, None, :, :].expand(b, self.kv, rep, v.size(2), self.hd).reshape(b, self.heads, v.size(2), self.hd)
        scores = torch.matmul(q, kk.transpose(2, 3)) / math.sqrt(self.hd) + mask
        a = torch.matmul(F.softmax(scores, dim=-1), vv).transpose(1, 2).reshape(b, s, self.heads * self.hd)
        x = x + self.o_proj(a)
        h = self.post_attention_layernorm(x)
        x = x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))
        return x, k, v


class Llama(nn.Module):
    def __init__(self, layers=2, d=64, heads=4, kv_heads=2, ffn=172, vocab=256, maxpos=64):
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab, d)
        self.layers = nn.ModuleList([LlamaBlock(d, heads, kv_heads, ffn) for _ in range(layers)])
        self.norm = RmsNorm(d)
        self.lm_head = nn.Linear(d, vocab, bias=False)
        hd = d // heads
        inv_freq = 1.0 / (10000 ** (torch.arange(0, hd, 2).float() / hd))
        freqs = torch.outer(torch.arange(maxpos).float(), inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        self.register_buffer('cos_cached', emb.cos())
        self.register_buffer('sin_cached', emb.sin())

    def forward(self, input_ids, *past):
        b, s = input_ids.size()
        past_len = past[0].size(2) if past else 0
        pos = torch.arange(past_len, past_len + s, dtype=torch.long)
        cos = self.cos_cached[pos][None, None, :, :]
        sin = self.sin_cached[pos][None, None, :, :]
        keys = torch.arange(past_len + s, dtype=torch.long)
        mask = torch.where(keys[None, :] > pos[:, None], torch.tensor(torch.finfo(torch.float32).min), torch.tensor(0.0))
        mask = mask[None, None, :, :]
        x = self.embed_tokens(input_ids)
        presents = []
        for i, blk in enumerate(self.layers):
            x, k, v = blk(x, cos, sin, mask, *(past[2 * i:2 * i + 2] if past else (None, None)))
            presents += [k, v]
        return (self.lm_head(self.norm(x)), *presents)


# ---------------------------------------------------------------- export
def save(folder, name, tensors):
    os.makedirs(folder, exist_ok=True)
    for i, (n, t) in enumerate(tensors):
        p = numpy_helper.from_array(t.detach().numpy() if torch.is_tensor(t) else t, n)
        with open(os.path.join(folder, f'{name}_{i}.pb'), 'wb') as f:
            f.write(p.SerializeToString())


def export(model, name, layers, kv_heads, hd, vocab, decode):
    model.eval()
    folder = os.path.join(OUT, name)
    os.makedirs(folder, exist_ok=True)
    in_names = ['input_ids'] + ([f'past_{kv}_{i}' for i in range(layers) for kv in ('key', 'value')] if decode else [])
    out_names = ['logits'] + [f'present_{kv}_{i}' for i in range(layers) for kv in ('key', 'value')]
    axes = {'input_ids': {0: 'batch', 1: 'seq'}, 'logits': {0: 'batch', 1: 'seq'}}
    for n in in_names[1:]:
        axes[n] = {0: 'batch', 2: 'past'}
    for n in out_names[1:]:
        axes[n] = {0: 'batch', 2: 'total'}

    def sample(batch, seq, past):
        ids = torch.randint(0, vocab, (batch, seq))
        pasts = [torch.randn(batch, kv_heads, past, hd) for _ in range(2 * layers)] if decode else []
        return (ids, *pasts)

    args = sample(2, 1 if decode else 5, 6)
    torch.onnx.export(model, args, os.path.join(folder, 'model.onnx'), opset_version=17,
                      input_names=in_names, output_names=out_names, dynamic_axes=axes, do_constant_folding=True)
    for k, (batch, seq, past) in enumerate([(1, 1 if decode else 7, 9), (3, 1 if decode else 4, 5)]):
        inputs = sample(batch, seq, past)
        with torch.no_grad():
            outs = model(*inputs)
        d = os.path.join(folder, f'test_data_set_{k}')
        save(d, 'input', list(zip(in_names, inputs)))
        save(d, 'output', list(zip(out_names, outs)))
    onnx.checker.check_model(onnx.load(os.path.join(folder, 'model.onnx')))
    print('wrote', folder)


gpt2 = Gpt2()
export(gpt2, 'gpt2_dynamic_prefill', 2, 4, 16, 256, decode=False)
export(gpt2, 'gpt2_dynamic_decode', 2, 4, 16, 256, decode=True)
llama = Llama()
export(llama, 'llama_dynamic_prefill', 2, 2, 16, 256, decode=False)
export(llama, 'llama_dynamic_decode', 2, 2, 16, 256, decode=True)
