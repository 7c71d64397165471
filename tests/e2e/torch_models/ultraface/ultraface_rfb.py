"""UltraFace RFB-320 with box decoding (outputs softmax scores and corner-form boxes)."""
from ultraface_nets import SSD


def get_model():
    return SSD(rfb=True, decode_boxes=True)
