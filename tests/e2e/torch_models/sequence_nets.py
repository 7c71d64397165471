"""Recurrent and attention models for test_pytorch_sequence.py, written as a user's training code
would be: a speaker encoder (3-layer nn.LSTM + Linear), a GRU tagger (bidirectional, 2 layers,
time-major), a small Transformer encoder (nn.TransformerEncoderLayer, batch_first) and a
cross-attention block (nn.MultiheadAttention with separate key/value + F.scaled_dot_product_attention)."""
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


class TinyTransformer(nn.Module):
    """[N, T, 16] -> [N, 8]: embedding, one Transformer encoder layer, mean pooling, head."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(16, 64)
        self.encoder = nn.TransformerEncoderLayer(d_model=64, nhead=4, dim_feedforward=128, dropout=0.1,
                                                  batch_first=True)
        self.head = nn.Linear(64, 8)

    def forward(self, x):
        return self.head(self.encoder(self.embed(x)).mean(dim=1))


class CrossAttention(nn.Module):
    """Queries attend to a memory with nn.MultiheadAttention (key is value), then a hand-written
    attention block with F.scaled_dot_product_attention."""

    def __init__(self):
        super().__init__()
        self.q_in = nn.Linear(16, 32)
        self.m_in = nn.Linear(16, 32)
        self.attn = nn.MultiheadAttention(32, 4, batch_first=True)
        self.qkv = nn.Linear(32, 96)
        self.proj = nn.Linear(32, 32)

    def forward(self, x, memory):
        q = self.q_in(x)
        m = self.m_in(memory)
        y, _ = self.attn(q, m, m, need_weights=False)
        y = y + q
        n, t, _ = y.shape
        qh, kh, vh = self.qkv(y).view(n, t, 3, 4, 8).permute(2, 0, 3, 1, 4)
        z = F.scaled_dot_product_attention(qh, kh, vh).transpose(1, 2).reshape(n, t, 32)
        return self.proj(z) + y
