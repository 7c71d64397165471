"""UltraFace slim-320 without post-processing (outputs softmax scores and raw box regression)."""
from ultraface_nets import SSD


def get_model():
    return SSD(rfb=False, decode_boxes=False)
