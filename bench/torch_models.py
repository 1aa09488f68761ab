"""PyTorch versions of the benchmark models (random weights), for the PyTorch
and ONNX Runtime peers: torchvision's Inception v3 (the TF-slim architecture)
and MobileNet v1 1.0 (not in torchvision; written here layer by layer as
TF-slim's mobilenet_v1: 3x3 stem, 13 depthwise-separable blocks, ReLU6,
global average pool, 1x1 logits, softmax).  Both end in a softmax over 1001
classes, as the .pb files frost and OpenCV run."""
import torch
import torch.nn as nn


def _conv_bn(cin, cout, k, stride, groups=1):
    return [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout, eps=1e-3),
            nn.ReLU6(inplace=True)]


class MobileNetV1(nn.Module):
    BLOCKS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]

    def __init__(self, num_classes=1001):
        super().__init__()
        layers = _conv_bn(3, 32, 3, 2)
        cin = 32
        for cout, stride in self.BLOCKS:
            layers += _conv_bn(cin, cin, 3, stride, groups=cin)  # depthwise
            layers += _conv_bn(cin, cout, 1, 1)  # pointwise
            cin = cout
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.logits = nn.Conv2d(1024, num_classes, 1)

    def forward(self, x):
        x = self.logits(self.pool(self.features(x)))
        return torch.softmax(torch.flatten(x, 1), dim=1)


class WithSoftmax(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return torch.softmax(self.net(x), dim=1)


def build(name):
    """(model in eval mode, input size)."""
    torch.manual_seed(0)
    if name == "inception_v3":
        import torchvision
        net = torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=True, num_classes=1001,
                                              transform_input=False)
        model, size = WithSoftmax(net), 299
    elif name == "mobilenet_v1":
        model, size = MobileNetV1(), 224
    else:
        raise ValueError("unknown model " + name)
    # Batch-norm statistics near (0, 1) as in the .pb generator: keeps
    # activations O(1) (no denormals, no overflow).
    g = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.normal_(0, 0.1, generator=g)
            m.running_var.uniform_(0.6, 1.4, generator=g)
    return model.eval(), size


def export_onnx(name, path, opset=None):
    """ONNX export of the same model with a dynamic batch dimension.  MobileNet
    uses opset 10 (ReLU6 as attribute Clip, which older importers accept);
    Identity nodes PyTorch emits for shared initializers are harmless to ONNX
    Runtime."""
    model, size = build(name)
    if opset is None:
        opset = 10 if name == "mobilenet_v1" else 11
    x = torch.zeros(1, 3, size, size)
    with torch.no_grad():
        torch.onnx.export(model, x, path, input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, opset_version=opset,
                          do_constant_folding=True)
    return size
