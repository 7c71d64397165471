#!/usr/bin/env python3
"""Exports the held-out-style models of docs/benchmarks.md (tenth session) from transformers'
architectures with random weights (PyTorch's own initialisation of each layer, as
tests/e2e/real_models.py does), as ONNX opset 17, for bench/bench_forward.py. Nothing is
downloaded: only transformers' model code is used. Models whose export fails are reported and
skipped.

The third scan (twelfth session, file names "tv_*") takes torchvision's classic CNNs and
segmentation nets: `pip install --no-deps torchvision==0.28.0` (the release for torch 2.13; its
compiled operators do not load against this CPU build of torch, and only the model definitions
are used, so the module that registers them is skipped) and `--torchvision`.

Example (about 5 minutes on 2 cores; --torchvision about 3 more):
  python3 bench/export_heldout.py --out ~/.cache/dopt/heldout [--torchvision]
  python3 bench/bench_forward.py --models_dir ~/.cache/dopt/heldout --models mobilenetv2.onnx x_cvt.onnx ...
"""
import argparse
import os
import sys

import types

import torch

# transformers imports torchvision when it is installed (the --torchvision scan's `pip install
# --no-deps torchvision`); its compiled operators do not load against this CPU build of torch.
sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
import transformers as T  # noqa: E402


class First(torch.nn.Module):
    """The model's first output (last hidden state or logits) as one tensor."""

    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, *a):
        return self.m(*a, return_dict=False)[0]


img = torch.randn(1, 3, 224, 224)
ids = torch.randint(0, 1000, (1, 64))
mask = torch.ones(1, 64, dtype=torch.long)
TXT = ["input_ids", "attention_mask"]


def mk(name):
    if name == "efficientnet": return First(T.EfficientNetForImageClassification(T.EfficientNetConfig())), (img,), ["pixel_values"]
    if name == "mobilenetv2": return First(T.MobileNetV2ForImageClassification(T.MobileNetV2Config())), (img,), ["pixel_values"]
    if name == "mobilenetv1": return First(T.MobileNetV1ForImageClassification(T.MobileNetV1Config())), (img,), ["pixel_values"]
    if name == "deit": return First(T.DeiTModel(T.DeiTConfig(num_hidden_layers=4), add_pooling_layer=False)), (img,), ["pixel_values"]
    if name == "segformer": return First(T.SegformerForSemanticSegmentation(T.SegformerConfig())), (torch.randn(1,3,256,256),), ["pixel_values"]
    if name == "levit": return First(T.LevitForImageClassification(T.LevitConfig())), (img,), ["pixel_values"]
    if name == "poolformer": return First(T.PoolFormerForImageClassification(T.PoolFormerConfig())), (img,), ["pixel_values"]
    if name == "convnextv2": return First(T.ConvNextV2ForImageClassification(T.ConvNextV2Config())), (img,), ["pixel_values"]
    if name == "clipvision": return First(T.CLIPVisionModel(T.CLIPVisionConfig(num_hidden_layers=4))), (img,), ["pixel_values"]
    if name == "roberta": return First(T.RobertaModel(T.RobertaConfig(num_hidden_layers=4))), (ids, mask), ["input_ids", "attention_mask"]
    if name == "albert": return First(T.AlbertModel(T.AlbertConfig(num_hidden_layers=4))), (ids, mask), ["input_ids", "attention_mask"]
    if name == "deberta": return First(T.DebertaV2Model(T.DebertaV2Config(num_hidden_layers=2))), (ids, mask), ["input_ids", "attention_mask"]
    if name == "electra": return First(T.ElectraModel(T.ElectraConfig(num_hidden_layers=4))), (ids, mask), ["input_ids", "attention_mask"]
    if name == "wav2vec2": return First(T.Wav2Vec2Model(T.Wav2Vec2Config(num_hidden_layers=2))), (torch.randn(1, 16000),), ["input_values"]
    if name == "resnet18": return First(T.ResNetForImageClassification(T.ResNetConfig(depths=[2,2,2,2], layer_type="basic", hidden_sizes=[64,128,256,512], num_labels=1000))), (img,), ["pixel_values"]
    if name == "rtdetr": return First(T.RTDetrForObjectDetection(T.RTDetrConfig())), (torch.randn(1,3,640,640),), ["pixel_values"]
    if name == "bit": return First(T.BitForImageClassification(T.BitConfig())), (img,), ["pixel_values"]
    if name == "yolos": return First(T.YolosForObjectDetection(T.YolosConfig(num_hidden_layers=4))), (torch.randn(1,3,512,512),), ["pixel_values"]
    if name == "glpn": return First(T.GLPNForDepthEstimation(T.GLPNConfig())), (torch.randn(1,3,256,256),), ["pixel_values"]
    if name == "beit": return First(T.BeitModel(T.BeitConfig(num_hidden_layers=4), add_pooling_layer=False)), (img,), ["pixel_values"]
    if name == "cvt": return First(T.CvtModel(T.CvtConfig())), (img,), ["pixel_values"]
    if name == "pvtv2": return First(T.PvtV2Model(T.PvtV2Config())), (img,), ["pixel_values"]
    if name == "focalnet": return First(T.FocalNetModel(T.FocalNetConfig())), (img,), ["pixel_values"]
    if name == "swiftformer": return First(T.SwiftFormerModel(T.SwiftFormerConfig())), (img,), ["pixel_values"]
    if name == "swinv2": return First(T.Swinv2Model(T.Swinv2Config())), (img,), ["pixel_values"]
    if name == "swin2sr": return First(T.Swin2SRModel(T.Swin2SRConfig())), (torch.randn(1,3,64,64),), ["pixel_values"]
    if name == "hiera": return First(T.HieraModel(T.HieraConfig())), (img,), ["pixel_values"]
    if name == "siglip": return First(T.SiglipVisionModel(T.SiglipVisionConfig(num_hidden_layers=4))), (img,), ["pixel_values"]
    if name == "hubert": return First(T.HubertModel(T.HubertConfig(num_hidden_layers=2))), (torch.randn(1, 16000),), ["input_values"]
    if name == "wavlm": return First(T.WavLMModel(T.WavLMConfig(num_hidden_layers=2))), (torch.randn(1, 16000),), ["input_values"]
    if name == "ast": return First(T.ASTModel(T.ASTConfig(num_hidden_layers=2))), (torch.randn(1, 1024, 128),), ["input_values"]
    if name == "convbert": return First(T.ConvBertModel(T.ConvBertConfig(num_hidden_layers=2))), (ids, mask), TXT
    if name == "squeezebert": return First(T.SqueezeBertModel(T.SqueezeBertConfig(num_hidden_layers=2))), (ids, mask), TXT
    if name == "mobilebert": return First(T.MobileBertModel(T.MobileBertConfig(num_hidden_layers=4))), (ids, mask), TXT
    if name == "mpnet": return First(T.MPNetModel(T.MPNetConfig(num_hidden_layers=2))), (ids, mask), TXT
    if name == "funnel": return First(T.FunnelBaseModel(T.FunnelConfig(block_sizes=[1,1,1]))), (ids, mask), TXT
    if name == "xlmr": return First(T.XLMRobertaModel(T.XLMRobertaConfig(num_hidden_layers=2, vocab_size=1000))), (ids, mask), TXT
    if name == "t5enc": return First(T.T5EncoderModel(T.T5Config(num_layers=2, vocab_size=1000))), (ids, mask), TXT
    if name == "bart_enc":
        from transformers.models.bart.modeling_bart import BartEncoder
        return First(BartEncoder(T.BartConfig(encoder_layers=2, vocab_size=1000))), (ids, mask), TXT
    if name == "llama": return First(T.LlamaModel(T.LlamaConfig(num_hidden_layers=2, vocab_size=1000, hidden_size=256, intermediate_size=512, num_attention_heads=4, num_key_value_heads=2))), (ids, mask), TXT
    if name == "mask2former": return First(T.Mask2FormerModel(T.Mask2FormerConfig())), (torch.randn(1,3,256,256),), ["pixel_values"]
    if name == "detr_resnet":
        return First(T.DetrForObjectDetection(T.DetrConfig(use_timm_backbone=False, use_pretrained_backbone=False, backbone_config=T.ResNetConfig(out_features=["stage4"])))), (torch.randn(1,3,320,320),), ["pixel_values"]
    # the fourth scan (fifteenth session): detectors, depth, segmentation and pose heads
    if name == "dpt": return First(T.DPTForDepthEstimation(T.DPTConfig(num_hidden_layers=4, backbone_out_indices=[0, 1, 2, 3]))), (torch.randn(1,3,384,384),), ["pixel_values"]
    if name == "depth_anything":
        return First(T.DepthAnythingForDepthEstimation(T.DepthAnythingConfig(backbone_config=T.Dinov2Config(hidden_size=384, num_attention_heads=6, num_hidden_layers=4, out_indices=[1, 2, 3, 4], reshape_hidden_states=False)))), (torch.randn(1,3,266,266),), ["pixel_values"]
    if name == "conditional_detr":
        return First(T.ConditionalDetrForObjectDetection(T.ConditionalDetrConfig(use_timm_backbone=False, use_pretrained_backbone=False, backbone_config=T.ResNetConfig(out_features=["stage4"])))), (torch.randn(1,3,320,320),), ["pixel_values"]
    if name == "dfine": return First(T.DFineForObjectDetection(T.DFineConfig())), (torch.randn(1,3,640,640),), ["pixel_values"]
    if name == "hgnetv2": return First(T.HGNetV2ForImageClassification(T.HGNetV2Config())), (img,), ["pixel_values"]
    if name == "textnet": return First(T.TextNetModel(T.TextNetConfig())), (torch.randn(1,3,640,640),), ["pixel_values"]
    if name == "vitpose":
        return First(T.VitPoseForPoseEstimation(T.VitPoseConfig(backbone_config=T.VitPoseBackboneConfig(num_hidden_layers=4, out_indices=[4])))), (torch.randn(1,3,256,192),), ["pixel_values"]
    if name == "superpoint": return First(T.SuperPointForKeypointDetection(T.SuperPointConfig())), (torch.randn(1,1,240,320),), ["pixel_values"]
    if name == "mobilenetv2_seg": return First(T.MobileNetV2ForSemanticSegmentation(T.MobileNetV2Config())), (torch.randn(1,3,512,512),), ["pixel_values"]
    if name == "mobilevit_seg": return First(T.MobileViTForSemanticSegmentation(T.MobileViTConfig())), (torch.randn(1,3,512,512),), ["pixel_values"]
    raise KeyError(name)


def mk_torchvision(name):
    """torchvision's architecture `name` (tv_ stripped), its input and input name."""
    import types
    sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
    from torchvision import models
    from torchvision.models import segmentation as seg

    class Out(torch.nn.Module):  # segmentation nets return {"out": ...}
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, x):
            y = self.m(x)
            return y["out"] if isinstance(y, dict) else y

    size = {"inception_v3": 299, "deeplabv3_mnv3": 320, "lraspp_mnv3": 320, "fcn_resnet50": 320}.get(name, 224)
    build = {
        "resnext50": lambda: models.resnext50_32x4d(),
        "densenet121": lambda: models.densenet121(),
        "inception_v3": lambda: models.inception_v3(init_weights=True, aux_logits=False),
        "googlenet": lambda: models.googlenet(init_weights=True, aux_logits=False),
        "shufflenet_v2": lambda: models.shufflenet_v2_x1_0(),
        "mnasnet": lambda: models.mnasnet1_0(),
        "mobilenet_v3_large": lambda: models.mobilenet_v3_large(),
        "mobilenet_v3_small": lambda: models.mobilenet_v3_small(),
        "efficientnet_b0": lambda: models.efficientnet_b0(),
        "efficientnet_v2_s": lambda: models.efficientnet_v2_s(),
        "regnet_y_400mf": lambda: models.regnet_y_400mf(),
        "alexnet": lambda: models.alexnet(),
        "squeezenet1_1": lambda: models.squeezenet1_1(),
        "convnext_tiny": lambda: models.convnext_tiny(),
        "swin_t": lambda: models.swin_t(),
        "maxvit_t": lambda: models.maxvit_t(),
        "deeplabv3_mnv3": lambda: seg.deeplabv3_mobilenet_v3_large(weights=None, weights_backbone=None, aux_loss=False),
        "lraspp_mnv3": lambda: seg.lraspp_mobilenet_v3_large(weights=None, weights_backbone=None),
        # the fourth scan (fifteenth session)
        "fcn_resnet50": lambda: seg.fcn_resnet50(weights=None, weights_backbone=None, aux_loss=False),
        "mobilenet_v2": lambda: models.mobilenet_v2(),
        "r3d_18": lambda: models.video.r3d_18(),
    }[name]
    if name == "r3d_18":  # a video clip: 8 frames of 112 x 112
        return Out(build()), (torch.randn(1, 3, 8, 112, 112),), ["input"]
    return Out(build()), (torch.randn(1, 3, size, size),), ["input"]


TV_NAMES = ["resnext50", "densenet121", "inception_v3", "googlenet", "shufflenet_v2", "mnasnet", "mobilenet_v3_large",
            "mobilenet_v3_small", "efficientnet_b0", "efficientnet_v2_s", "regnet_y_400mf", "alexnet", "squeezenet1_1",
            "convnext_tiny", "swin_t", "maxvit_t", "deeplabv3_mnv3", "lraspp_mnv3", "fcn_resnet50", "mobilenet_v2", "r3d_18"]

NAMES = ["efficientnet", "mobilenetv2", "mobilenetv1", "deit", "segformer", "levit", "poolformer", "convnextv2",
         "clipvision", "roberta", "albert", "deberta", "electra", "wav2vec2", "resnet18", "bit", "glpn", "yolos",
         "rtdetr", "beit", "cvt", "pvtv2", "focalnet", "swiftformer", "swinv2", "swin2sr", "hiera", "siglip",
         "hubert", "wavlm", "ast", "convbert", "squeezebert", "mobilebert", "mpnet", "funnel", "xlmr", "t5enc",
         "bart_enc", "llama", "detr_resnet", "mask2former"]
# The fourth scan's names (fifteenth session) take a "y_" prefix.
FOURTH = ["dpt", "depth_anything", "conditional_detr", "dfine", "hgnetv2", "textnet",
          "vitpose", "mobilenetv2_seg", "mobilevit_seg"]  # superpoint: its export pools a 3-d tensor with a 2-d kernel (ORT rejects it too)
# The first scan's names keep no prefix, the second's an "x_" (as in docs/benchmarks.md).
SECOND = set(NAMES[NAMES.index("beit"):])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--torchvision", action="store_true", help="export torchvision's set (tv_*) instead")
    ap.add_argument("--fourth", action="store_true", help="export the fourth scan's set (y_*) instead")
    ap.add_argument("names", nargs="*")
    a = ap.parse_args()
    a.names = a.names or (TV_NAMES if a.torchvision else FOURTH if a.fourth else NAMES)
    os.makedirs(a.out, exist_ok=True)
    failed = 0
    for name in a.names:
        prefix = "tv_" if a.torchvision else "y_" if name in FOURTH else "x_" if name in SECOND else ""
        path = os.path.join(a.out, prefix + name + ".onnx")
        try:
            torch.manual_seed(0)
            m, args, names = mk_torchvision(name) if a.torchvision else mk(name)
            torch.manual_seed(0)
            for sub in m.modules():  # torchvision's nets keep their own initialisation
                if hasattr(sub, "reset_parameters") and not a.torchvision:
                    sub.reset_parameters()
            m.eval()
            with torch.no_grad():
                out = m(*args)
            print(f"{name}: output {tuple(out.shape)} std {float(out.float().std()):.3g}", flush=True)
            torch.onnx.export(m, args, path + ".part", input_names=names, output_names=["output"], opset_version=17,
                              dynamo=False)
            os.replace(path + ".part", path)
        except Exception as e:  # an architecture this transformers version cannot build or export
            failed += 1
            print(f"{name}: FAILED {type(e).__name__}: {str(e)[:200]}", flush=True)
    return 1 if failed == len(a.names) else 0


if __name__ == "__main__":
    sys.exit(main())
