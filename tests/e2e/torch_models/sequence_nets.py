"""Recurrent and attention models for test_pytorch_sequence.py, written as a user's training code
would be: a speaker encoder (3-layer nn.LSTM + Linear), a GRU tagger (bidirectional, 2 layers,
time-major), a recurrent stack (2-layer bidirectional LSTM, an RNN from a learned state), an
attention net (nn.TransformerEncoderLayer, cross nn.MultiheadAttention and
F.scaled_dot_product_attention) and a causal attention net (nn.MultiheadAttention returning its
weights, causal F.scaled_dot_product_attention, attention written out with @ / torch.matmul)."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class SpeakerEncoder(nn.Module):
    """[N, T, 40] log-mel frames -> L2-normalised 64-d embedding from the last layer's hidden state."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(input_size=40, hidden_size=96, num_layers=3, batch_first=True)
        self.linear = nn.Linear(96, 64)
        self.relu = nn.ReLU()

    def forward(self, mels):
        _, (hidden, _) = self.lstm(mels)
        embeds = self.relu(self.linear(hidden[-1]))
        return embeds / (torch.norm(embeds, dim=1, keepdim=True) + 1e-5)


class GruTagger(nn.Module):
    """[T, N, 24] time-major features -> per-frame scores [T, N, 12]."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(24, 32)
        self.gru = nn.GRU(32, 48, num_layers=2, bidirectional=True)
        self.out = nn.Linear(96, 12)

    def forward(self, feats):
        y, _ = self.gru(torch.tanh(self.proj(feats)))
        return self.out(y)


class RecurrentStack(nn.Module):
    """[N, T, 20] -> [N, T, 6]: a 2-layer bidirectional batch-first LSTM, a tanh RNN started from
    a learned state, a Linear head."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(20, 24, num_layers=2, bidirectional=True, batch_first=True)
        self.rnn = nn.RNN(48, 16, batch_first=True)
        self.h0 = nn.Parameter(torch.randn(1, 1, 16) * 0.3)
        self.head = nn.Linear(16, 6)

    def forward(self, x):
        y, _ = self.lstm(x)
        z, _ = self.rnn(y, self.h0.expand(1, x.shape[0], 16).contiguous())
        return self.head(z)


class AttentionNet(nn.Module):
    """x [N, T, 16] and memory [N, S, 16] -> [N, T, 8]: one Transformer encoder layer
    (batch_first) over x, cross-attention to the memory with nn.MultiheadAttention (key is value),
    a hand-written attention block with F.scaled_dot_product_attention, a Linear head."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(16, 64)
        self.encoder = nn.TransformerEncoderLayer(d_model=64, nhead=4, dim_feedforward=128, dropout=0.1,
                                                  batch_first=True)
        self.m_in = nn.Linear(16, 64)
        self.cross = nn.MultiheadAttention(64, 4, batch_first=True)
        self.qkv = nn.Linear(64, 192)
        self.proj = nn.Linear(64, 64)
        self.head = nn.Linear(64, 8)

    def forward(self, x, memory):
        h = self.encoder(self.embed(x))
        m = self.m_in(memory)
        h = h + self.cross(h, m, m, need_weights=False)[0]
        n, t, _ = h.shape
        q, k, v = self.qkv(h).view(n, t, 3, 4, 16).permute(2, 0, 3, 1, 4)
        h = h + self.proj(F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(n, t, 64))
        return self.head(h)


class CausalAttentionNet(nn.Module):
    """x [T=10, N, 32] (time-major) -> [T, N, 32]: nn.MultiheadAttention with a causal float mask
    returning its attention weights (need_weights: its own bmm path, not
    scaled_dot_product_attention), then F.scaled_dot_product_attention with is_causal and the same
    attention written out with `@` and torch.matmul."""

    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(32, 4)
        self.register_buffer("mask", torch.triu(torch.full((10, 10), float("-inf")), diagonal=1))
        self.qkv = nn.Linear(32, 96)
        self.out = nn.Linear(32, 32)

    def forward(self, x):
        t = x.shape[0]
        h, w = self.attn(x, x, x, attn_mask=self.mask)
        q, k, v = (z.reshape(t, -1, 4, 8).permute(1, 2, 0, 3) for z in self.qkv(h).chunk(3, dim=-1))
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        # The same attention again, written out: products of activations with @ and torch.matmul.
        s = torch.softmax((q @ k.transpose(-2, -1)) * 0.35 + self.mask, dim=-1)
        a = (a + torch.matmul(s, v)).permute(2, 0, 1, 3).reshape(t, -1, 32)
        return self.out(a + h) * (1 + w.amax(-1).transpose(0, 1).unsqueeze(-1))


class DotAttention(nn.Module):
    def forward(self, q, kv):
        return torch.softmax(q @ kv.transpose(-2, -1) * 0.2, dim=-1) @ kv


class SharedAttentionNet(nn.Module):
    """x [N, 8, 32] -> [N, 8, 32]: one nn.MultiheadAttention applied twice (weights shared) and a
    parameter-free attention module written with @ applied twice: each call's products are ops
    of their own (the export names the second call's scope `attn_1`, `mix_1`)."""

    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(32, 4, batch_first=True)
        self.mix = DotAttention()
        self.out = nn.Linear(32, 32)

    def forward(self, x):
        h = x + self.attn(x, x, x, need_weights=False)[0]
        h = h + self.attn(h, h, h, need_weights=False)[0]
        h = self.mix(h, h) + self.mix(h * 0.5, x)
        return self.out(h)
