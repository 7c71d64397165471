"""Ultra-Light-Fast-Generic-Face-Detector-1MB (Linzaer, MIT), written for dopt's tests from the
structure of the original's vision/nn/mb_tiny.py, vision/nn/mb_tiny_RFB.py, vision/ssd/ssd.py,
vision/ssd/mb_tiny_fd.py, vision/ssd/mb_tiny_RFB_fd.py and vision/utils/box_utils.py, so that the
shared pretrained .pth files (../shared/testdata/models/pytorch/ultraface_*_320.pth) load into it
key for key. Input: [N, 3, 240, 320] ((pixel - 127) / 128, RGB). Outputs: scores [N, 4420, 2]
(softmax) and boxes [N, 4420, 4] (corner form when decode_boxes, else the raw regression)."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

IMAGE_SIZE = (320, 240)  # w, h
FEATURE_MAPS = ([40, 20, 10, 5], [30, 15, 8, 4])
MIN_BOXES = [[10, 16, 24], [32, 48], [64, 96], [128, 192, 256]]
CENTER_VARIANCE, SIZE_VARIANCE = 0.1, 0.2


def conv_bn(inp, oup, stride):
    return nn.Sequential(nn.Conv2d(inp, oup, 3, stride, 1, bias=False), nn.BatchNorm2d(oup), nn.ReLU(inplace=True))


def conv_dw(inp, oup, stride):
    return nn.Sequential(
        nn.Conv2d(inp, inp, 3, stride, 1, groups=inp, bias=False), nn.BatchNorm2d(inp), nn.ReLU(inplace=True),
        nn.Conv2d(inp, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup), nn.ReLU(inplace=True))


class BasicConv(nn.Module):
    def __init__(self, in_planes, out_planes, kernel_size, stride=1, padding=0, dilation=1, groups=1, relu=True):
        super().__init__()
        self.conv = nn.Conv2d(in_planes, out_planes, kernel_size, stride, padding, dilation, groups, bias=False)
        self.bn = nn.BatchNorm2d(out_planes, eps=1e-5, momentum=0.01, affine=True)
        self.relu = nn.ReLU(inplace=True) if relu else None

    def forward(self, x):
        x = self.bn(self.conv(x))
        return self.relu(x) if self.relu is not None else x


class BasicRFB(nn.Module):
    def __init__(self, in_planes, out_planes, stride=1, scale=0.1, map_reduce=8, vision=1):
        super().__init__()
        self.scale = scale
        inter = in_planes // map_reduce
        self.branch0 = nn.Sequential(
            BasicConv(in_planes, inter, 1, relu=False),
            BasicConv(inter, 2 * inter, 3, stride, 1),
            BasicConv(2 * inter, 2 * inter, 3, 1, vision + 1, vision + 1, relu=False))
        self.branch1 = nn.Sequential(
            BasicConv(in_planes, inter, 1, relu=False),
            BasicConv(inter, 2 * inter, 3, stride, 1),
            BasicConv(2 * inter, 2 * inter, 3, 1, vision + 2, vision + 2, relu=False))
        self.branch2 = nn.Sequential(
            BasicConv(in_planes, inter, 1, relu=False),
            BasicConv(inter, (inter // 2) * 3, 3, 1, 1),
            BasicConv((inter // 2) * 3, 2 * inter, 3, stride, 1),
            BasicConv(2 * inter, 2 * inter, 3, 1, vision + 4, vision + 4, relu=False))
        self.ConvLinear = BasicConv(6 * inter, out_planes, 1, relu=False)
        self.shortcut = BasicConv(in_planes, out_planes, 1, stride, relu=False)
        self.relu = nn.ReLU(inplace=False)

    def forward(self, x):
        out = torch.cat((self.branch0(x), self.branch1(x), self.branch2(x)), 1)
        out = self.ConvLinear(out)
        return self.relu(out * self.scale + self.shortcut(x))


def backbone(rfb, base=16):
    layers = [conv_bn(3, base, 2), conv_dw(base, base * 2, 1), conv_dw(base * 2, base * 2, 2),
              conv_dw(base * 2, base * 2, 1), conv_dw(base * 2, base * 4, 2), conv_dw(base * 4, base * 4, 1),
              conv_dw(base * 4, base * 4, 1)]
    layers.append(BasicRFB(base * 4, base * 4, stride=1, scale=1.0) if rfb else conv_dw(base * 4, base * 4, 1))
    layers += [conv_dw(base * 4, base * 8, 2), conv_dw(base * 8, base * 8, 1), conv_dw(base * 8, base * 8, 1),
               conv_dw(base * 8, base * 16, 2), conv_dw(base * 16, base * 16, 1)]
    return nn.Sequential(*layers)


def separable_conv(cin, cout, kernel_size=1, stride=1, padding=0):
    return nn.Sequential(nn.Conv2d(cin, cin, kernel_size, stride, padding, groups=cin), nn.ReLU(),
                         nn.Conv2d(cin, cout, 1))


def generate_priors():
    priors = []
    for index in range(len(FEATURE_MAPS[0])):
        fw, fh = FEATURE_MAPS[0][index], FEATURE_MAPS[1][index]
        scale_w = IMAGE_SIZE[0] / (IMAGE_SIZE[0] / fw)
        scale_h = IMAGE_SIZE[1] / (IMAGE_SIZE[1] / fh)
        for j in range(fh):
            for i in range(fw):
                xc, yc = (i + 0.5) / scale_w, (j + 0.5) / scale_h
                for b in MIN_BOXES[index]:
                    priors.append([xc, yc, b / IMAGE_SIZE[0], b / IMAGE_SIZE[1]])
    return torch.clamp(torch.tensor(priors), 0.0, 1.0)


class SSD(nn.Module):
    def __init__(self, rfb, decode_boxes, num_classes=2, base=16):
        super().__init__()
        self.num_classes = num_classes
        self.decode_boxes = decode_boxes
        self.base_net = backbone(rfb, base)
        self.source_layer_indexes = [8, 11, 13]
        self.extras = nn.ModuleList([nn.Sequential(
            nn.Conv2d(base * 16, base * 4, 1), nn.ReLU(),
            separable_conv(base * 4, base * 16, 3, 2, 1), nn.ReLU())])
        self.classification_headers = nn.ModuleList([
            separable_conv(base * 4, 3 * num_classes, 3, padding=1),
            separable_conv(base * 8, 2 * num_classes, 3, padding=1),
            separable_conv(base * 16, 2 * num_classes, 3, padding=1),
            nn.Conv2d(base * 16, 3 * num_classes, 3, padding=1)])
        self.regression_headers = nn.ModuleList([
            separable_conv(base * 4, 3 * 4, 3, padding=1),
            separable_conv(base * 8, 2 * 4, 3, padding=1),
            separable_conv(base * 16, 2 * 4, 3, padding=1),
            nn.Conv2d(base * 16, 3 * 4, 3, padding=1)])
        self.priors = generate_priors()  # a plain attribute, as in the original (not in the state dict)

    def compute_header(self, i, x):
        c = self.classification_headers[i](x).permute(0, 2, 3, 1).contiguous()
        c = c.view(c.size(0), -1, self.num_classes)
        l = self.regression_headers[i](x).permute(0, 2, 3, 1).contiguous()
        return c, l.view(l.size(0), -1, 4)

    def forward(self, input):
        x = input
        confidences, locations = [], []
        start, header = 0, 0
        for end in self.source_layer_indexes:
            for layer in self.base_net[start:end]:
                x = layer(x)
            start = end
            c, l = self.compute_header(header, x)
            header += 1
            confidences.append(c)
            locations.append(l)
        for layer in self.base_net[start:]:
            x = layer(x)
        for layer in self.extras:
            x = layer(x)
            c, l = self.compute_header(header, x)
            header += 1
            confidences.append(c)
            locations.append(l)
        scores = F.softmax(torch.cat(confidences, 1), dim=2)
        locs = torch.cat(locations, 1)
        if not self.decode_boxes:
            return scores, locs
        p = self.priors.unsqueeze(0)
        boxes = torch.cat([locs[..., :2] * CENTER_VARIANCE * p[..., 2:] + p[..., :2],
                           torch.exp(locs[..., 2:] * SIZE_VARIANCE) * p[..., 2:]], 2)
        boxes = torch.cat([boxes[..., :2] - boxes[..., 2:] / 2, boxes[..., :2] + boxes[..., 2:] / 2], 2)
        return scores, boxes
