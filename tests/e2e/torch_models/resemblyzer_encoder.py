"""resemblyzer 0.1.4's VoiceEncoder (resemblyzer/voice_encoder.py), the network alone: its
__init__ also picks a device and loads pretrained.pt, and the package imports librosa and
webrtcvad, so the architecture and forward() are copied here (hparams: 40 mel channels, 256
hidden, 3 layers, 256-d embedding). dopt loads the real pretrained.pt into it: a checkpoint
{"step", "model_state", "optimizer_state"} whose state dict also holds the training-only
similarity_weight / similarity_bias."""
import torch
import torch.nn as nn


class VoiceEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(40, 256, 3, batch_first=True)
        self.linear = nn.Linear(256, 256)
        self.relu = nn.ReLU()

    def forward(self, mels):
        _, (hidden, _) = self.lstm(mels)
        embeds_raw = self.relu(self.linear(hidden[-1]))
        return embeds_raw / torch.norm(embeds_raw, dim=1, keepdim=True)
