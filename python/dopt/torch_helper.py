"""PyTorch side of dopt's PyTorch path (--framework 5 with a .py model and a .pth).

The dopt executable runs this file as a subprocess (``$DOPT_PYTHON`` or ``python3``); dopt
itself never loads Python. Two sub-commands:

``export``   import the user's .py, build the model, load the .pth (the state dict found wherever
             the training script put it, see find_state_dict), check ``--input_shape``
             against ``forward()``'s parameters and export the model to ONNX (the TorchScript
             exporter, eval mode, BatchNorm kept as its own node so every Conv/Linear keeps its
             parameter name; opset 13, or the newer one an op such as scaled_dot_product_attention
             needs). Writes ``model.onnx``, ``model.map`` (tab-separated lines for the
             C++ side: inputs, outputs, modules) and ``model.json`` (input names and output
             structure).
``build-pt`` build the same model again, fold the BatchNorm modules that dopt folded, make each
             quantized Conv/Linear fake-quantize its input (per tensor) and its weight (per
             channel) with the scales of dopt's plan (a JSON file written by dopt), give each
             nn.MultiheadAttention with quantized projections a forward() that does the same
             (quantize_attention), replace each nn.LSTM/GRU/RNN with quantized layers by a
             layer-by-layer module with int8-grid weights and fake-quantized layer inputs
             (quantize_recurrent), fake-quantize both operands of the products of two
             activations dopt quantized (attention's q x k^T, softmax x v: ActivationPairs, with
             scaled_dot_product_attention and torch.matmul/bmm/@ replaced while tracing), trace it
             and save it as a TorchScript archive.

Errors are printed as one line ``dopt-helper: error: <cause>`` (exit status 2); warnings as
``dopt: warning: <text>``; notes, which dopt prints on its stdout as ``dopt: <text>``, as
``dopt-helper: note: <text>``.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import json
import os
import re
import sys
import warnings

FACTORY_NAMES = ("get_model", "build_model", "create_model")
OPSET = 13      # the export's opset, raised up to MAX_OPSET for an op that needs a newer one
MAX_OPSET = 17


class HelperError(Exception):
    pass


def warn(text):
    print("dopt: warning: " + text, file=sys.stderr, flush=True)


def note(text):
    """A line dopt prints on its stdout (not a warning: nothing is wrong)."""
    print("dopt-helper: note: " + text, file=sys.stderr, flush=True)


def import_torch():
    try:
        import torch  # noqa: F401
    except Exception as e:  # ImportError, or a broken install
        raise HelperError(
            "PyTorch cannot be imported by %s (%s: %s); install it with "
            "'pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu' (the CPU build), "
            "or point DOPT_PYTHON at an interpreter that has it" % (sys.executable, type(e).__name__, e))
    return torch


# ---------------------------------------------------------------- the user's model

def import_user_file(path):
    path = os.path.abspath(path)
    folder = os.path.dirname(path)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise HelperError("cannot import %s as a Python module" % path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    try:
        spec.loader.exec_module(mod)
    except Exception as e:
        raise HelperError("importing the model file failed: %s: %s" % (type(e).__name__, e))
    return mod


def required_args(fn):
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return []
    return [p.name for p in sig.parameters.values()
            if p.default is inspect.Parameter.empty
            and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
            and p.name != "self"]


def build(obj, what):
    req = required_args(obj)
    if req:
        raise HelperError("%s needs constructor arguments (%s); add a factory function get_model() to the file "
                          "that builds it, or give defaults" % (what, ", ".join(req)))
    try:
        return obj()
    except Exception as e:
        raise HelperError("building %s failed: %s: %s" % (what, type(e).__name__, e))


def find_model(mod, model_class):
    torch = import_torch()
    nn = torch.nn
    if model_class:
        obj = getattr(mod, model_class, None)
        if obj is None:
            raise HelperError("--model_class %s: no such class or function in the file" % model_class)
        if isinstance(obj, nn.Module):
            return obj, model_class
        if inspect.isclass(obj) and not issubclass(obj, nn.Module):
            raise HelperError("--model_class %s is not a torch.nn.Module subclass" % model_class)
        if not callable(obj):
            raise HelperError("--model_class %s is neither a class nor a function" % model_class)
        m = build(obj, "--model_class %s" % model_class)
        if not isinstance(m, nn.Module):
            raise HelperError("--model_class %s returned %s, not a torch.nn.Module" % (model_class, type(m).__name__))
        return m, model_class

    instances = [(k, v) for k, v in vars(mod).items() if isinstance(v, nn.Module) and not k.startswith("_")]
    if len(instances) == 1:
        return instances[0][1], instances[0][0]
    if len(instances) > 1:
        raise HelperError("several module-level nn.Module instances (%s); pick one with --model_class"
                          % ", ".join(k for k, _ in instances))
    for fname in FACTORY_NAMES:
        fn = getattr(mod, fname, None)
        if inspect.isfunction(fn):
            m = build(fn, "%s()" % fname)
            if not isinstance(m, nn.Module):
                raise HelperError("%s() returned %s, not a torch.nn.Module" % (fname, type(m).__name__))
            return m, fname
    classes = [(k, v) for k, v in vars(mod).items()
               if inspect.isclass(v) and issubclass(v, nn.Module) and v.__module__ == mod.__name__]
    if not classes:
        raise HelperError("no model found: the file defines no nn.Module subclass, no module-level nn.Module "
                          "instance and no factory function (%s)" % ", ".join(FACTORY_NAMES))
    # Drop the classes another class of the file uses (its building blocks).
    sources = {}
    for k, v in classes:
        try:
            sources[k] = inspect.getsource(v)
        except (OSError, TypeError):
            sources[k] = ""
    top = [(k, v) for k, v in classes
           if not any(o != k and re.search(r"\b%s\b" % re.escape(k), src) for o, src in sources.items())]
    if not top:
        top = classes
    buildable = [(k, v) for k, v in top if not required_args(v)]
    if len(buildable) == 1:
        return build(buildable[0][1], "class %s" % buildable[0][0]), buildable[0][0]
    if len(buildable) > 1:
        raise HelperError("several candidate models (%s); pick one with --model_class"
                          % ", ".join(k for k, _ in buildable))
    desc = "; ".join("%s(%s)" % (k, ", ".join(required_args(v))) for k, v in top)
    raise HelperError("the candidate model classes need constructor arguments: %s; add a get_model() factory "
                      "to the file or pick a class or function with --model_class" % desc)


def load_checkpoint(path, quiet):
    torch = import_torch()
    if not os.path.isfile(path):
        raise HelperError("the weight file does not exist")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        if not quiet:
            warn("%s: torch.load(weights_only=True) failed (%s); loading it with full unpickling, which runs "
                 "code stored in the file: use it only with files you trust" % (path, first[:200]))
        try:
            obj = torch.load(path, map_location="cpu", weights_only=False)
        except Exception as e2:
            raise HelperError("cannot read the weights: %s: %s" % (type(e2).__name__, str(e2).splitlines()[0] if str(e2) else ""))
    return obj


PREFIXES = ("module.", "_orig_mod.")  # DataParallel / DistributedDataParallel, torch.compile


def strip_prefixes(key):
    changed = True
    while changed:
        changed = False
        for p in PREFIXES:
            if key.startswith(p) and len(key) > len(p):
                key, changed = key[len(p):], True
    return key


def tensor_dicts(obj, path="", depth=0, seen=None):
    """Every dict inside a checkpoint (nested dicts, lists and tuples too) that holds tensors
    under string keys: (where, {key: tensor}). `where` spells the entry, e.g. ['ckpt']['net']."""
    torch = import_torch()
    if seen is None:
        seen = set()
    if depth > 12 or id(obj) in seen:
        return []
    seen.add(id(obj))
    out = []
    if isinstance(obj, torch.nn.Module):
        out.append((path or "the module", dict(obj.state_dict())))
    elif isinstance(obj, dict):
        tensors = {k: v for k, v in obj.items() if isinstance(k, str) and isinstance(v, torch.Tensor)}
        if tensors:
            out.append((path or "the top level", tensors))
        for k, v in obj.items():
            if isinstance(v, (dict, list, tuple, torch.nn.Module)):
                out += tensor_dicts(v, "%s[%r]" % (path, k), depth + 1, seen)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            if isinstance(v, (dict, list, tuple, torch.nn.Module)):
                out += tensor_dicts(v, "%s[%d]" % (path, i), depth + 1, seen)
    return out


def match_state_dict(sd, expected):
    """The candidate's keys as the model would name them (a `module.` or `_orig_mod.` prefix
    dropped where that matches better) and its score: (parameters matched by name and shape,
    by name)."""
    variants = [sd]
    stripped = {}
    for k, v in sd.items():
        stripped.setdefault(strip_prefixes(k), v)
    if len(stripped) == len(sd) and stripped.keys() != sd.keys():
        variants.append(stripped)
    best = None
    for cand in variants:
        names = [k for k in cand if k in expected]
        shaped = sum(1 for k in names if tuple(cand[k].shape) == tuple(expected[k].shape))
        score = (shaped, len(names))
        if best is None or score > best[1]:
            best = (cand, score)
    return best


def short_list(names, n=8):
    names = list(names)
    s = ", ".join(names[:n])
    return s + (" and %d more" % (len(names) - n) if len(names) > n else "")


def find_state_dict(obj, model):
    """The state dict a checkpoint holds for `model`: the whole object when it is a state dict or
    a module, else the dict entry (at any depth) whose tensors best match the model's parameters
    by name and shape. Returns (where, state dict with the model's key names)."""
    torch = import_torch()
    if not isinstance(obj, (dict, list, tuple, torch.nn.Module)):
        raise HelperError("the weight file holds a %s, not a state dict, checkpoint or nn.Module" % type(obj).__name__)
    expected = model.state_dict()
    cands = tensor_dicts(obj)
    scored = [(where, *match_state_dict(sd, expected)) for where, sd in cands]
    scored = [c for c in scored if c[2][1] > 0]
    if not scored:
        keys = list(map(str, obj.keys())) if isinstance(obj, dict) else []
        raise HelperError("the checkpoint holds no state dict whose keys match the model's parameters (%s; the "
                          "model expects %s)" % ("keys: " + short_list(keys, 10) if keys else "a %s" % type(obj).__name__,
                                                 short_list(expected.keys(), 4)))
    # Most parameters matched by name and shape; then by name; then the smallest (no extras).
    where, sd, _ = max(scored, key=lambda c: (c[2], -len(c[1])))
    return where, sd


def load_weights(model, path, quiet=False):
    obj = load_checkpoint(path, quiet)
    where, sd = find_state_dict(obj, model)
    if where not in ("the top level", "the module") and not quiet:
        note("%s: the model's weights are the state dict at checkpoint%s" % (os.path.basename(path), where))
    expected = model.state_dict()
    missing = [k for k in expected if k not in sd]
    unexpected = [k for k in sd if k not in expected]
    if missing:
        raise HelperError("the weights do not match the model (missing keys: %s)" % short_list(missing))
    wrong = [(k, list(sd[k].shape), list(expected[k].shape)) for k in expected
             if tuple(sd[k].shape) != tuple(expected[k].shape)]
    if wrong:
        raise HelperError("the weights do not match the model (shape mismatch: %s)" % "; ".join(
            "%s is %s in the checkpoint, %s in the model" % w for w in wrong[:4]))
    if unexpected and not quiet:
        warn("%s: the checkpoint's state dict has %d key(s) the model does not use, ignored: %s"
             % (os.path.basename(path), len(unexpected), short_list(unexpected, 4)))
    try:
        model.load_state_dict({k: sd[k] for k in expected}, strict=True)
    except Exception as e:
        msg = " ".join(str(e).split())
        raise HelperError("loading the weights failed: %s" % msg[:600])


# ---------------------------------------------------------------- inputs and outputs

def parse_input_shape(text):
    text = (text or "").replace("\uff1a", ":").replace("\uff1b", ";").replace("\uff0c", ",")
    out = []
    for entry in text.split(";"):
        entry = entry.strip()
        if not entry:
            continue
        name, _, dims = entry.rpartition(":")
        try:
            shape = [int(d) for d in dims.replace(" ", "").split(",") if d]
        except ValueError:
            raise HelperError("--input_shape '%s': dims must be integers" % entry)
        out.append((name.strip(), shape))
    return out


def forward_params(model):
    sig = inspect.signature(model.forward)
    return [p for p in sig.parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def example_inputs(model, input_shape, seed=0):
    torch = import_torch()
    params = forward_params(model)
    names = [p.name for p in params]
    shapes = parse_input_shape(input_shape)
    if not shapes:
        raise HelperError("--input_shape is required for PyTorch models (forward() takes %s)" % ", ".join(names))
    if len(shapes) == 1 and not shapes[0][0] and names:
        shapes = [(names[0], shapes[0][1])]
    given = dict(shapes)
    for n in given:
        if n not in names:
            raise HelperError("--input_shape names '%s', which is not a parameter of %s.forward() (parameters: %s)"
                              % (n, type(model).__name__, ", ".join(names)))
    used = []
    for p in params:
        if p.name in given:
            used.append(p.name)
        elif p.default is inspect.Parameter.empty:
            raise HelperError("--input_shape gives no shape for forward() parameter '%s' (parameters: %s)"
                              % (p.name, ", ".join(names)))
        else:
            break  # later parameters keep their defaults
    for n in given:
        if n not in used:
            raise HelperError("--input_shape: forward() parameter '%s' comes after one that was not given" % n)
    g = torch.Generator().manual_seed(seed)
    return used, tuple(torch.rand(*given[n], generator=g) for n in used)


def sanitize(name):
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", str(name)) or "output"


def describe_outputs(out, prefix="output"):
    """(structure, flat names) of a forward() result."""
    torch = import_torch()
    if isinstance(out, torch.Tensor):
        return {"kind": "tensor", "name": prefix}, [prefix]
    if isinstance(out, (tuple, list)):
        items, names = [], []
        for i, v in enumerate(out):
            s, n = describe_outputs(v, "%s_%d" % (prefix, i))
            items.append(s)
            names += n
        return {"kind": "tuple" if isinstance(out, tuple) else "list", "items": items}, names
    if isinstance(out, dict):
        items, names = [], []
        for k, v in out.items():
            s, n = describe_outputs(v, sanitize(k) if prefix == "output" else "%s_%s" % (prefix, sanitize(k)))
            items.append({"key": str(k), "value": s})
            names += n
        return {"kind": "dict", "items": items}, names
    raise HelperError("forward() returns a %s; only tensors and tuples, lists and dicts of tensors are supported"
                      % type(out).__name__)


def prepare(args, quiet=False):
    torch = import_torch()
    # nn.MultiheadAttention and the Transformer layers have an inference fast path (one fused
    # aten op) that neither the ONNX export nor dopt's fake-quantized projections can follow.
    torch.backends.mha.set_fastpath_enabled(False)
    mod = import_user_file(args.model)
    model, found_as = find_model(mod, args.model_class)
    load_weights(model, args.weight, quiet)
    model.eval()
    names, inputs = example_inputs(model, args.input_shape)
    return torch, model, found_as, names, inputs


# ---------------------------------------------------------------- export

def cmd_export(args):
    torch, model, found_as, names, inputs = prepare(args)
    with torch.no_grad():
        try:
            out = model(*inputs)
        except Exception as e:
            raise HelperError("forward() failed on inputs of the --input_shape shapes: %s: %s"
                              % (type(e).__name__, " ".join(str(e).split())[:300]))
    structure, out_names = describe_outputs(out)
    if len(set(out_names)) != len(out_names):
        raise HelperError("forward()'s outputs have clashing names: %s" % ", ".join(out_names))
    onnx_path = os.path.join(args.out_dir, "model.onnx")
    opset = OPSET
    while True:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                # TorchScript-based exporter (torch 2.13 still ships it; the torch.export-based one
                # needs onnxscript). PRESERVE on an eval-mode model skips the exporter's Conv+BN fusion,
                # so every Conv/Linear weight keeps its parameter name (dopt folds BN itself).
                torch.onnx.export(model, inputs, onnx_path, dynamo=False, input_names=names,
                                  output_names=out_names, opset_version=opset,
                                  training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=True)
                break
            except Exception as e:
                # scaled_dot_product_attention (also inside nn.MultiheadAttention and the
                # Transformer layers) has a symbolic from opset 14: export at the opset it names.
                m = re.search(r"added in version (\d+)", str(e))
                if m and opset < int(m.group(1)) <= MAX_OPSET:
                    opset = int(m.group(1))
                    continue
                raise HelperError("exporting to ONNX failed: %s: %s" % (type(e).__name__, " ".join(str(e).split())[:400]))
    with open(os.path.join(args.out_dir, "model.json"), "w") as f:
        json.dump({"model": found_as, "inputs": names, "input_shapes": [list(t.shape) for t in inputs],
                   "outputs": out_names, "structure": structure}, f, indent=1)
    with open(os.path.join(args.out_dir, "model.map"), "w") as f:
        for n in names:
            f.write("input\t%s\n" % n)
        for n in out_names:
            f.write("output\t%s\n" % n)
        for n, m in model.named_modules():
            # Leaf modules, and nn.MultiheadAttention (its input projection is a MatMul on its own
            # in_proj_weight; out_proj is a leaf Linear).
            if n and (not list(m.children()) or isinstance(m, torch.nn.MultiheadAttention)):
                f.write("module\t%s\t%s\n" % (n, type(m).__name__))


# ---------------------------------------------------------------- build-pt

def qrange(bits):
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


def parent_of(model, name):
    parent = model
    parts = name.split(".")
    for p in parts[:-1]:
        parent = getattr(parent, p)
    return parent, parts[-1]


def fold_bn(torch, conv, bn):
    nn = torch.nn
    with torch.no_grad():
        var = bn.running_var.double()
        gamma = bn.weight.double() if bn.weight is not None else torch.ones_like(var)
        beta = bn.bias.double() if bn.bias is not None else torch.zeros_like(var)
        k = gamma / torch.sqrt(var + bn.eps)
        w = conv.weight.double()
        transposed = isinstance(conv, nn.modules.conv._ConvTransposeNd)
        if transposed:  # [Cin, Cout/g, k...]
            g = conv.groups
            cin, cpg = w.shape[0], w.shape[1]
            w = w.reshape(g, cin // g, cpg, *w.shape[2:]) * k.reshape(g, 1, cpg, *([1] * (w.dim() - 2)))
            w = w.reshape(cin, cpg, *w.shape[3:])
        else:
            w = w * k.reshape(-1, *([1] * (w.dim() - 1)))
        b = conv.bias.double() if conv.bias is not None else torch.zeros_like(var)
        b = (b - bn.running_mean.double()) * k + beta
        conv.weight.copy_(w.to(conv.weight.dtype))
        if conv.bias is None:
            conv.bias = nn.Parameter(b.to(conv.weight.dtype))
        else:
            conv.bias.copy_(b.to(conv.bias.dtype))


def fold_bn_module(torch, model, modules, bn_name, conv_name, folded):
    """Folds BatchNorm module `bn_name` (None: nothing) into Conv module `conv_name` and replaces it
    by nn.Identity, once (`folded`: the names already folded)."""
    nn = torch.nn
    if not bn_name or bn_name in folded:
        return
    bn, m = modules.get(bn_name), modules.get(conv_name)
    if not isinstance(bn, nn.modules.batchnorm._BatchNorm):
        raise HelperError("dopt folded '%s' into '%s', but it is not a BatchNorm module" % (bn_name, conv_name))
    if not isinstance(m, nn.modules.conv._ConvNd):
        raise HelperError("dopt folded '%s' into '%s', which is not a Conv module" % (bn_name, conv_name))
    fold_bn(torch, m, bn)
    parent, attr = parent_of(model, bn_name)
    setattr(parent, attr, nn.Identity())
    folded.add(bn_name)


def flat_tensors(torch, out):
    """The tensors of a forward() result, in describe_outputs' order."""
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [t for v in out for t in flat_tensors(torch, v)]
    if isinstance(out, dict):
        return [t for v in out.values() for t in flat_tensors(torch, v)]
    return []


def equalize_modules(torch, modules, entries):
    """Applies dopt's cross-layer equalization (plan["equalized"]) to the modules: output channel
    c of a Conv divided by out_divided[c] (weight and bias), input channel c multiplied by
    in_multiplied[c] (grouped/depthwise: the weights that read channel c). The BatchNorm modules
    dopt folded into them are already folded here."""
    nn = torch.nn
    seen = set()
    for e in entries:
        name = e["module"]
        m = modules.get(name)
        if not isinstance(m, nn.modules.conv._ConvNd) or isinstance(m, nn.modules.conv._ConvTransposeNd):
            raise HelperError("dopt equalized Conv '%s', which maps to module '%s' (%s), not a Conv"
                              % (e["node"], name, type(m).__name__ if m is not None else "no module"))
        if name in seen:
            raise HelperError("dopt equalized module '%s' twice (it runs more than once): turn equalization off "
                              "for this model" % name)
        seen.add(name)
        with torch.no_grad():
            w = m.weight.double()
            cout, cpg = w.shape[0], w.shape[1]
            shape = [-1] + [1] * (w.dim() - 1)
            if e.get("out_divided"):
                s = torch.tensor(e["out_divided"], dtype=torch.float64)
                if s.numel() != cout:
                    raise HelperError("dopt equalized %d output channels of module '%s', it has %d"
                                      % (s.numel(), name, cout))
                w = w / s.reshape(shape)
                if m.bias is not None:
                    m.bias.copy_((m.bias.double() / s).to(m.bias.dtype))
            if e.get("in_multiplied"):
                s = torch.tensor(e["in_multiplied"], dtype=torch.float64)
                g = m.groups
                if s.numel() != cpg * g:
                    raise HelperError("dopt equalized %d input channels of module '%s', it has %d"
                                      % (s.numel(), name, cpg * g))
                # weight[o, j] reads input channel (o // (cout / groups)) * cpg + j.
                o = torch.arange(cout).reshape(-1, 1)
                idx = (o // (cout // g)) * cpg + torch.arange(cpg).reshape(1, -1)
                w = w * s[idx].reshape(cout, cpg, *([1] * (w.dim() - 2)))
            m.weight.copy_(w.to(m.weight.dtype))


def check_same_float(torch, before, after, what):
    """`after` (a forward() result) equals `before` to float rounding, or a HelperError."""
    a, b = flat_tensors(torch, before), flat_tensors(torch, after)
    for i, (x, y) in enumerate(zip(a, b)):
        if not (x.is_floating_point() and y.is_floating_point()):
            continue
        x, y = x.double(), y.double()
        scale = max(x.abs().max().item() if x.numel() else 0.0, 1e-30)
        diff = (x - y).abs().max().item() if x.numel() else 0.0
        if not diff <= 1e-3 * scale:
            raise HelperError("%s changed the float model's output %d by %.3g (its largest value is %.3g): the "
                              "model's forward() does something between the layers that dopt's graph did not show; "
                              "turn equalization off for this model" % (what, i, diff, scale))


def per_channel_fit(torch, wd, wt, ch):
    """Least-squares factor k per channel (axis `ch`) with wd ~ k * wt, and the largest residual."""
    wd_c, wt_c = wd.transpose(0, ch).reshape(wd.shape[ch], -1), wt.transpose(0, ch).reshape(wt.shape[ch], -1)
    den = (wt_c * wt_c).sum(1)
    k = torch.where(den > 0, (wd_c * wt_c).sum(1) / den.clamp_min(1e-300), torch.ones_like(den))
    return k, (wd_c - k[:, None] * wt_c).abs().max().item()


def carry_other_folds(torch, op, weight, what, plan_dir):
    """dopt's weight quantization of `op` carried onto `weight` (a module's parameter, or a slice
    of one, in PyTorch's layout). dopt's weight may be the transpose (a MatMul's [in, out]) and
    may have per-channel Mul/Add by constants folded into it (code in forward(), not a module):
    it is then k * (our weight) per output channel, and fake-quantizing our weight per channel
    with scale / |k| gives the same grid (per-tensor plans too), forward() still applying k
    afterwards. The output-channel axis comes from dopt's plan (the op's quantization traits).
    Returns the weight quantization to use (axis in our layout) and k."""
    import numpy as np

    wd = torch.from_numpy(np.load(os.path.join(plan_dir, op["weight_file"]))).double()
    wt = weight.detach().double()
    wq = op["weight"]
    axis, channel_axis = wq["axis"], op["weight_channel_axis"]
    ch = axis if axis >= 0 else channel_axis
    if ch < 0:
        raise HelperError("quantized op '%s': dopt's plan gives the weight of %s no channel axis" % (op["node"], what))
    fits = []
    for transposed in (False, True):
        if transposed and wd.dim() != 2:
            continue
        cand = wd.t() if transposed else wd
        if tuple(cand.shape) != tuple(wt.shape):
            continue
        c = 1 - ch if transposed else ch
        k, resid = per_channel_fit(torch, cand, wt, c)
        fits.append((resid, transposed, cand, c, k))
    if not fits:
        raise HelperError("quantized op '%s': weight shape %s in dopt's plan, %s has %s"
                          % (op["node"], list(wd.shape), what, list(wt.shape)))
    resid, transposed, wd, ch, k = min(fits, key=lambda f: f[0])
    if resid > 1e-4 * max(wd.abs().max().item(), 1e-12):
        raise HelperError("quantized op '%s': dopt's weight differs from %s by more than a per-channel factor "
                          "(largest difference %.3g)" % (op["node"], what, resid))
    if axis >= 0:
        axis = ch
    wq = dict(wq, axis=axis)
    if (k - 1).abs().max().item() > 1e-5 or axis < 0:
        n = k.numel()
        scales = wq["scales"] if axis >= 0 else wq["scales"] * n
        zps = wq["zero_points"] if axis >= 0 else wq["zero_points"] * n
        wq = dict(wq, axis=ch, zero_points=zps,
                  scales=[float(sc / abs(kc)) if kc != 0 else float(sc) for sc, kc in zip(scales, k.tolist())])
    return wq, k


def weight_fit(torch, op, weight, plan_dir):
    """How well dopt's weight of `op` is `weight` (or its transpose) up to a per-channel factor:
    the smallest relative residual, inf when no shape matches."""
    import numpy as np

    wd = torch.from_numpy(np.load(os.path.join(plan_dir, op["weight_file"]))).double()
    wt = weight.detach().double()
    ch = op["weight"]["axis"] if op["weight"]["axis"] >= 0 else op["weight_channel_axis"]
    best = float("inf")
    for cand, c in ((wd, ch), (wd.t() if wd.dim() == 2 else None, 1 - ch)):
        if cand is None or ch < 0 or tuple(cand.shape) != tuple(wt.shape):
            continue
        best = min(best, per_channel_fit(torch, cand, wt, c)[1] / max(cand.abs().max().item(), 1e-12))
    return best


def quantized_bias(torch, bias, op, k, plan_dir):
    """The bias as an int8 backend adds it: dopt's (folded) bias b_d rounded to the int32 grid
    (scale = input scale x weight scale per channel). Our bias b_t sits before the other folds
    (b_d = k * b_t + c), so it moves by the rounding error / k, plus dopt's bias correction / k
    when the plan has one. None when the op has no bias."""
    import numpy as np

    bq = op.get("bias")
    if bq is None or bias is None or not op.get("bias_file"):
        return None
    bd = torch.from_numpy(np.load(os.path.join(plan_dir, op["bias_file"]))).double().reshape(-1)
    b = bias.detach().double()
    s = torch.tensor(bq["scales"], dtype=torch.float32).double()
    if s.numel() == 1:
        s = s.expand_as(bd)
    if s.numel() != b.numel() or bd.numel() != b.numel() or k.numel() not in (1, b.numel()) or (s <= 0).any():
        return None
    err = torch.round(bd / s).clamp(-2147483648.0, 2147483647.0) * s - bd
    # bias_correction: dopt's bias already holds it (b_d = k * b_t + c + correction), ours not.
    corr = op.get("bias_correction")
    if corr is not None and len(corr) == bd.numel():
        err = err + torch.tensor(corr, dtype=torch.float32).double()
    safe_k = torch.where(k == 0, torch.ones_like(k), k)
    return (b + torch.where(k == 0, torch.zeros_like(err), err / safe_k)).float()


def activation_quants(ops):
    """(scale, zero point, qmin, qmax) of the input of each op (each call of a module)."""
    import numpy as np

    acts = []
    for op in ops:
        a = op["input"]
        lo, hi = qrange(a.get("bits", 8))
        # dopt's scales are float32: the same value here, not the nearest double to its decimal.
        acts.append((float(np.float32(a["scales"][0])), int(a["zero_points"][0]), lo, hi))
    return acts


def make_wrapper(torch, inner, acts, weight, bias_q):
    nn = torch.nn
    F = nn.functional

    class FakeQuant(nn.Module):
        """dopt's int8 op: input fake-quantized per tensor, weight per channel."""

        def __init__(self):
            super().__init__()
            self.inner = inner
            self.calls = 0
            self.act = acts  # one (scale, zero point, qmin, qmax) per call of the module
            self.register_buffer("w_scale", torch.tensor(weight["scales"], dtype=torch.float32))
            self.register_buffer("w_zero_point", torch.tensor(weight["zero_points"], dtype=torch.int32))
            self.w_axis = weight["axis"]
            self.w_qmin, self.w_qmax = qrange(weight.get("bits", 8))
            self.has_bias_q = bias_q is not None
            self.register_buffer("bias_q", bias_q if bias_q is not None else torch.zeros(0))

        def forward(self, x):
            # Tracing runs this once per call, so the scale of each call ends up in the graph.
            s, z, lo, hi = self.act[min(self.calls, len(self.act) - 1)]
            self.calls += 1
            x = torch.fake_quantize_per_tensor_affine(x, s, z, lo, hi)
            w = torch.fake_quantize_per_channel_affine(self.inner.weight, self.w_scale, self.w_zero_point,
                                                       self.w_axis, self.w_qmin, self.w_qmax)
            m = self.inner
            b = self.bias_q if self.has_bias_q else m.bias
            if isinstance(m, nn.Linear):
                return F.linear(x, w, b)
            if isinstance(m, nn.modules.conv._ConvTransposeNd):
                fn = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[w.dim() - 2]
                return fn(x, w, b, m.stride, m.padding, m.output_padding, m.groups, m.dilation)
            return m._conv_forward(x, w, b)

    return FakeQuant()


def act_quant(q):
    """(scale, zero point, qmin, qmax) of a per-tensor quantization in dopt's plan."""
    import numpy as np

    lo, hi = qrange(q.get("bits", 8))
    return float(np.float32(q["scales"][0])), int(q["zero_points"][0]), lo, hi


class ActivationPairs:
    """dopt's products of two activations (attention's q x k^T and softmax x v; `pair` ops of the
    plan, both operands int8 per tensor). The plan names each by the module whose forward() ran
    it (its scope) and its position among that scope's products of two activations, in
    execution order; the code the helper controls (scaled_dot_product_attention and the matrix
    products torch.matmul / bmm / @, replaced while the model is traced, and the
    nn.MultiheadAttention forward() it installs) asks `quantize` for each product of two
    activations it computes, so the i-th product of a scope gets entry i. `scope()` is the module whose forward() runs now (forward hooks keep the stack)."""

    def __init__(self, torch, ops, scopes):
        self.torch = torch
        self.by_scope = {}
        for op in ops:
            self.by_scope.setdefault(op["scope"], {})[op["index"]] = op
        self.expected = {s: n for s, n in scopes.items() if s in self.by_scope}
        self.calls = {}
        # The running modules: (qualified name, scope as the ONNX export names it, calls of each
        # child in this call). The export names the k-th call (k >= 1) of a child within one
        # call of its parent `<child>_k` (`/enc/attn/MatMul`, then `/enc/attn_1/MatMul`).
        self.stack = [("", "", {})]
        self.constants = set()  # ids of the model's parameters and buffers

    def is_constant(self, t):
        return id(t) in self.constants

    def reset_calls(self):
        self.calls = {}
        self.stack = [("", "", {})]

    def scope(self):
        return self.stack[-1][1]

    def hook(self, model):
        def enter(name):
            def pre_hook(_module, _inputs):
                parent, scope, counts = self.stack[-1]
                local = name[len(parent) + 1:] if parent and name.startswith(parent + ".") else name
                k = counts.get(local, 0)
                counts[local] = k + 1
                local += "_%d" % k if k else ""
                self.stack.append((name, scope + "." + local if scope else local, {}))
            return pre_hook

        def leave(_module, _inputs, _output):
            self.stack.pop()  # returns None: the output stays

        self.constants = {id(t) for t in list(model.parameters()) + list(model.buffers())}
        handles = []
        for mname, m in model.named_modules():
            if mname:
                handles.append(m.register_forward_pre_hook(enter(mname)))
                handles.append(m.register_forward_hook(leave))
        return handles

    def quantize(self, scope, a, b):
        """The two operands of the next product of activations of `scope`, fake-quantized where
        dopt's plan quantizes that product."""
        torch = self.torch
        i = self.calls.get(scope, 0)
        self.calls[scope] = i + 1
        op = self.by_scope.get(scope, {}).get(i)
        if op is None:
            return a, b
        qa, qb = (op["input"], op["weight"]) if op["input_operand"] == 0 else (op["weight"], op["input"])
        return (torch.fake_quantize_per_tensor_affine(a, *act_quant(qa)),
                torch.fake_quantize_per_tensor_affine(b, *act_quant(qb)))

    def attention(self, scope, query, key, value, attn_mask=None, is_causal=False, scale=None):
        """scaled_dot_product_attention as its ONNX export computes it (opset 14: q and k^T each
        times sqrt(scale), MatMul, mask, Softmax, MatMul), with both products' operands
        fake-quantized where dopt's plan quantizes them. No dropout (an inference model)."""
        import numpy as np

        torch = self.torch
        if scale is None:
            s = np.float32(1.0) / np.sqrt(np.float32(query.shape[-1]))
        else:
            s = np.float32(scale)
        root = torch.tensor(float(np.sqrt(np.float32(s))), dtype=torch.float32)
        matmul = ORIGINAL.get("matmul", torch.matmul)
        q, kt = self.quantize(scope, query * root, key.transpose(-2, -1) * root)
        scores = matmul(q, kt)
        boolean = attn_mask is not None and attn_mask.dtype == torch.bool
        if is_causal:
            L, S = scores.shape[-2], scores.shape[-1]
            keep = torch.ones(L, S, dtype=scores.dtype).tril(diagonal=0)
            scores = scores + torch.where(keep == 0, float("-inf"), 0.0).to(scores.dtype)
        elif boolean:
            scores = scores + torch.where(attn_mask, 0.0, float("-inf")).to(scores.dtype)
        elif attn_mask is not None:
            scores = scores + attn_mask
        attn = torch.softmax(scores, dim=-1)
        if boolean:
            attn = torch.where(torch.isnan(attn), 0.0, attn)
        attn, v = self.quantize(scope, attn, value)
        return matmul(attn, v)

    def check_calls(self):
        for scope, n in self.expected.items():
            ran = self.calls.get(scope, 0)
            if ran != n:
                where = "module '%s'" % scope if scope else "the model's own forward()"
                raise HelperError("%s computes %d product(s) of two activations in the exported graph, %d "
                                  "in the code the helper follows (nn.MultiheadAttention, "
                                  "F.scaled_dot_product_attention, torch.matmul, torch.bmm, @), so dopt's quantized "
                                  "ones (%s) cannot be placed; "
                                  "leave them in float with exclude_op or quantize_activation_matmul: false"
                                  % (where, n, ran, ", ".join(op["node"] for op in
                                                              sorted(self.by_scope[scope].values(),
                                                                     key=lambda o: o["index"]))))


PAIRS = None  # the ActivationPairs of the model being traced (build-pt), else None
ORIGINAL = {}  # the torch functions patch_attention_ops replaced


def patch_attention_ops(torch):
    """Replaces F.scaled_dot_product_attention (also what nn.MultiheadAttention calls) and the
    matrix products (torch.matmul, torch.bmm, Tensor.matmul / bmm / @) by versions that quantize
    products of two activations like dopt's plan, before the user's file is imported (so a
    `from torch.nn.functional import scaled_dot_product_attention` gets them too). A product
    with a parameter or buffer of the model is a constant in the exported graph, not a pair,
    and is left alone. Outside the trace (PAIRS None) they are the originals."""
    F = torch.nn.functional
    if ORIGINAL:
        return
    original = F.scaled_dot_product_attention
    ORIGINAL.update(sdpa=original, matmul=torch.matmul, bmm=torch.bmm, t_matmul=torch.Tensor.matmul, t_bmm=torch.Tensor.bmm,
                    t_at=torch.Tensor.__matmul__)

    def product(key):
        fn = ORIGINAL[key]

        def quantized_product(a, b, *args, **kwargs):
            if (PAIRS is not None and isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)
                    and not PAIRS.is_constant(a) and not PAIRS.is_constant(b)):
                a, b = PAIRS.quantize(PAIRS.scope(), a, b)
            return fn(a, b, *args, **kwargs)
        return quantized_product

    torch.matmul, torch.bmm = product("matmul"), product("bmm")
    torch.Tensor.matmul, torch.Tensor.bmm, torch.Tensor.__matmul__ = product("t_matmul"), product("t_bmm"), product("t_at")

    def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False,
                                     scale=None, enable_gqa=False):
        if PAIRS is None or enable_gqa:
            return original(query, key, value, attn_mask=attn_mask, dropout_p=dropout_p, is_causal=is_causal,
                            scale=scale, enable_gqa=enable_gqa)
        return PAIRS.attention(PAIRS.scope(), query, key, value, attn_mask, is_causal, scale)

    F.scaled_dot_product_attention = scaled_dot_product_attention


# PyTorch gate block p of a recurrent weight is block ONNX_GATES[kind][p] of the ONNX op's:
# LSTM PyTorch (i, f, g, o), ONNX (i, o, f, c); GRU PyTorch (r, z, n), ONNX (z, r, h).
ONNX_GATES = {"LSTM": (0, 2, 3, 1), "GRU": (1, 0, 2), "RNN": (0,)}


def recurrent_kind(torch, m):
    nn = torch.nn
    for cls, kind in ((nn.LSTM, "LSTM"), (nn.GRU, "GRU"), (nn.RNN, "RNN")):
        if isinstance(m, cls):
            return cls, kind
    return None, None


def dequantized_grid(np, w, q):
    """`w` (float32) on dopt's int8 grid as its DequantizeLinear gives it: round half to even of
    w / scale (float32), clamped, times the scale, per channel along q["axis"]."""
    s = np.asarray(q["scales"], np.float32)
    z = np.asarray(q["zero_points"], np.float32)
    if q["axis"] >= 0:
        shape = [1] * w.ndim
        shape[q["axis"]] = -1
        s, z = s.reshape(shape), z.reshape(shape)
    lo, hi = qrange(q.get("bits", 8))
    qv = np.clip(np.rint(w / s) + z, lo, hi)
    return ((qv - z) * s).astype(np.float32)


def op_call_index(op, mname):
    """0 for node `mname`, k - 1 for `mname#k`: the position of the op among the module's nodes
    (pytorch_names.cc names them in graph order)."""
    node = op["node"]
    if node == mname:
        return 0
    if node.startswith(mname + "#") and node[len(mname) + 1:].isdigit():
        return int(node[len(mname) + 1:]) - 1
    raise HelperError("quantized op '%s' of module '%s' is not named after it" % (node, mname))


def quantize_recurrent(torch, m, mname, ops, plan_dir):
    """nn.LSTM / nn.GRU / nn.RNN `m` as dopt's int8 ops: the ONNX export makes one op per layer
    (both directions in one), whose X dopt quantizes per tensor and whose W and R per gate row.
    Returns a module that runs the layers one by one (nn.<kind> of one layer each, so each
    layer's input can be fake-quantized) with the weights of the quantized layers on dopt's int8
    grid (the dequantized int8 values stored as parameters: exactly dopt's DequantizeLinear),
    biases, states and the recurrence in float as dopt runs them."""
    import numpy as np

    nn = torch.nn
    cls, kind = recurrent_kind(torch, m)
    if getattr(m, "proj_size", 0):
        raise HelperError("nn.LSTM '%s' has proj_size, which the quantized TorchScript model does not reproduce; "
                          "leave its ops in float with exclude_op" % mname)
    L, dirs, H = m.num_layers, 2 if m.bidirectional else 1, m.hidden_size
    gates = ONNX_GATES[kind]
    acts = [[None] * L]  # per call, per layer: the input's (scale, zero point, qmin, qmax) or None
    params = {}  # (layer, parameter name) -> dequantized weight, shared by all calls

    def torch_layout(w, d):  # direction d of an ONNX [dirs, gates*H, in] weight, rows in PyTorch's order
        return np.concatenate([w[d, g * H:(g + 1) * H] for g in gates], 0)

    def layer_of(op):
        """The layer whose W is dopt's (by value); the node's `#k` breaks ties (equal layers)."""
        w = np.load(os.path.join(plan_dir, op["weight_file"])).astype(np.float64)
        if w.ndim != 3 or w.shape[0] != dirs or w.shape[1] != len(gates) * H:
            return None
        found = []
        for k in range(L):
            mine = getattr(m, "weight_ih_l%d" % k).detach().double().numpy()
            theirs = torch_layout(w, 0)
            if mine.shape == theirs.shape and np.abs(mine - theirs).max() <= 1e-5 * max(np.abs(mine).max(), 1e-12):
                found.append(k)
        if len(found) > 1:  # equal layers: the node's position picks one of them
            hint = op_call_index(op, mname) % L
            return hint if hint in found else found[0]
        return found[0] if found else None

    seen = {}
    for op in sorted(ops, key=lambda o: op_call_index(o, mname)):
        layer = layer_of(op)
        if layer is None:
            raise HelperError("quantized op '%s' (%s): dopt's weight W is no layer's weight_ih of module '%s'"
                              % (op["node"], kind, mname))
        call = seen.get(layer, 0)
        seen[layer] = call + 1
        while len(acts) <= call:
            acts.append([None] * L)
        acts[call][layer] = activation_quants([op])[0]
        for wkey, fkey, pname in (("weight", "weight_file", "weight_ih"), ("weight2", "weight2_file", "weight_hh")):
            if wkey not in op:
                raise HelperError("quantized op '%s' (%s): dopt's plan gives no %s" % (op["node"], kind, wkey))
            w = np.load(os.path.join(plan_dir, op[fkey])).astype(np.float32)  # [dirs, gates*H, in]
            if w.ndim != 3 or w.shape[0] != dirs or w.shape[1] != len(gates) * H:
                raise HelperError("quantized op '%s': %s shape %s in dopt's plan does not fit module '%s' (%d "
                                  "direction(s), hidden size %d)" % (op["node"], wkey, list(w.shape), mname, dirs, H))
            wq = dequantized_grid(np, w, op[wkey])
            for d in range(dirs):
                key = "%s_l%d%s" % (pname, layer, "_reverse" if d else "")
                mine = getattr(m, key).detach().double().numpy()
                theirs = torch_layout(w, d).astype(np.float64)
                if mine.shape != theirs.shape or np.abs(mine - theirs).max() > 1e-5 * max(np.abs(mine).max(), 1e-12):
                    raise HelperError("quantized op '%s': dopt's %s is not module '%s''s %s" % (op["node"], wkey,
                                                                                            mname, key))
                q = torch.from_numpy(torch_layout(wq, d))
                if params.setdefault((layer, key), q) is not q and not torch.equal(params[(layer, key)], q):
                    raise HelperError("module '%s' runs several times with different quantized weights" % mname)

    # A module called several times: its ops are assigned to calls in graph order, layer by
    # layer, which is right only when each layer is quantized in every call or in none (a layer
    # int8 in one call and float in another would also need two sets of weights).
    if len(acts) > 1:
        for k in range(L):
            column = [row[k] is not None for row in acts]
            if any(column) and not all(column):
                raise HelperError("module '%s' runs %d times and dopt's plan quantizes its layer %d in some calls only "
                                  "(exclude_op, layer_precision or accuracy_target left the others float); the "
                                  "TorchScript writer needs each layer quantized in every call or in none: exclude "
                                  "that layer's ops in every call" % (mname, len(acts), k))

    class QuantizedRecurrent(nn.Module):
        """dopt's int8 LSTM/GRU/RNN: each layer's input fake-quantized per tensor, W and R on the int8 grid."""

        def __init__(self):
            super().__init__()
            self.calls = 0
            self.acts = acts
            self.is_lstm = kind == "LSTM"
            self.dirs = dirs
            self.batch_first = m.batch_first
            self.layers = nn.ModuleList()
            for k in range(L):
                kw = dict(input_size=m.input_size if k == 0 else H * dirs, hidden_size=H, num_layers=1, bias=m.bias,
                          batch_first=m.batch_first, bidirectional=m.bidirectional)
                if kind == "RNN":
                    kw["nonlinearity"] = m.nonlinearity
                layer = cls(**kw)
                with torch.no_grad():
                    for d in range(dirs):
                        sfx = "_reverse" if d else ""
                        for pname in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                            src = getattr(m, "%s_l%d%s" % (pname, k, sfx), None)
                            if src is None:
                                continue
                            val = params.get((k, "%s_l%d%s" % (pname, k, sfx)), src)
                            getattr(layer, "%s_l0%s" % (pname, sfx)).copy_(val)
                layer.eval()
                self.layers.append(layer)

        def forward(self, x, hx=None):
            acts = self.acts[min(self.calls, len(self.acts) - 1)]
            self.calls += 1
            hs, cs = [], []
            y = x
            for k, layer in enumerate(self.layers):
                if acts[k] is not None:
                    s, z, lo, hi = acts[k]
                    y = torch.fake_quantize_per_tensor_affine(y, s, z, lo, hi)
                if hx is None:
                    y, h = layer(y)
                elif self.is_lstm:
                    y, h = layer(y, (hx[0][k * self.dirs:(k + 1) * self.dirs], hx[1][k * self.dirs:(k + 1) * self.dirs]))
                else:
                    y, h = layer(y, hx[k * self.dirs:(k + 1) * self.dirs])
                if self.is_lstm:
                    hs.append(h[0])
                    cs.append(h[1])
                else:
                    hs.append(h)
            if self.is_lstm:
                return y, (torch.cat(hs, 0), torch.cat(cs, 0))
            return y, torch.cat(hs, 0)

    return QuantizedRecurrent(), len(acts)


def quantize_attention(torch, mha, name, in_ops, out_ops, plan_dir, pairs):
    """Makes nn.MultiheadAttention `mha` run dopt's int8 projections: its forward() is replaced by
    the computation the ONNX export traced (F.multi_head_attention_forward without dropout),
    whose input projections (one packed q/k/v MatMul for self-attention, q + packed k/v when key
    is value, else q, k and v) and out_proj fake-quantize their input per tensor and their weight
    per channel with dopt's scales. Each quantized op is matched to the slice of in_proj_weight
    (or q/k/v_proj_weight) it runs by its values. Returns an object with reset_calls() and
    check_calls() for cmd_build_pt. Its products of two activations (q x k^T, softmax x v) are
    quantized by `pairs` (ActivationPairs)."""
    import math
    import types

    nn = torch.nn
    F = nn.functional
    if mha.bias_k is not None or mha.add_zero_attn:
        raise HelperError("nn.MultiheadAttention '%s' uses bias_k/bias_v or add_zero_attn, which the quantized "
                          "TorchScript model does not reproduce; leave its ops in float with exclude_op" % name)
    E = mha.embed_dim
    if mha._qkv_same_embed_dim:
        w = mha.in_proj_weight
        slices = {"qkv": (w, 0, 3 * E), "q": (w, 0, E), "kv": (w, E, 3 * E), "k": (w, E, 2 * E), "v": (w, 2 * E, 3 * E)}
    else:
        slices = {"q": (mha.q_proj_weight, 0, E), "k": (mha.k_proj_weight, 0, E), "v": (mha.v_proj_weight, 0, E)}
    b = mha.in_proj_bias
    roles = {}  # role -> list of (act, weight quant, bias) per call

    def prepare_op(op, role, weight, bias, what):
        wq, k = carry_other_folds(torch, op, weight, what, plan_dir)
        bq = quantized_bias(torch, bias, op, k, plan_dir)
        roles.setdefault(role, []).append((activation_quants([op])[0], wq, bq))

    for op in in_ops:
        fits = sorted((weight_fit(torch, op, p[lo:hi], plan_dir), role) for role, (p, lo, hi) in slices.items())
        if not fits or fits[0][0] > 1e-4:
            raise HelperError("quantized op '%s' of nn.MultiheadAttention '%s' runs no slice of its input "
                              "projection weights; leave it in float with exclude_op" % (op["node"], name))
        role = fits[0][1]
        p, lo, hi = slices[role]
        prepare_op(op, role, p[lo:hi], b[lo:hi] if b is not None else None,
                   "nn.MultiheadAttention '%s''s %s projection weight" % (name, role))
    for op in out_ops:
        prepare_op(op, "out", mha.out_proj.weight, mha.out_proj.bias, "module '%s.out_proj''s weight" % name)

    state = types.SimpleNamespace(calls={}, used={r: len(v) for r, v in roles.items()})

    def project(role, x, weight, bias):
        quants = roles.get(role)
        if not quants:
            return F.linear(x, weight, bias)
        i = state.calls.get(role, 0)
        state.calls[role] = i + 1
        (s, z, lo, hi), wq, bq = quants[min(i, len(quants) - 1)]
        x = torch.fake_quantize_per_tensor_affine(x, s, z, lo, hi)
        wlo, whi = qrange(wq.get("bits", 8))
        if wq["axis"] >= 0:
            weight = torch.fake_quantize_per_channel_affine(
                weight, torch.tensor(wq["scales"], dtype=torch.float32),
                torch.tensor(wq["zero_points"], dtype=torch.int32), wq["axis"], wlo, whi)
        else:
            weight = torch.fake_quantize_per_tensor_affine(weight, float(wq["scales"][0]), int(wq["zero_points"][0]),
                                                           wlo, whi)
        return F.linear(x, weight, bq if bq is not None else bias)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        same_qk, same_kv = query is key, key is value
        if self.batch_first:
            query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
        T, B, _ = query.shape
        S = key.shape[0]
        H = self.num_heads
        D = E // H
        if self._qkv_same_embed_dim:
            w, bias = self.in_proj_weight, self.in_proj_bias
            bs = (lambda lo, hi: bias[lo:hi] if bias is not None else None)
            if same_qk and same_kv:
                q, k, v = project("qkv", query, w, bias).chunk(3, dim=-1)
            elif same_kv:
                q = project("q", query, w[:E], bs(0, E))
                k, v = project("kv", key, w[E:], bs(E, 3 * E)).chunk(2, dim=-1)
            else:
                q = project("q", query, w[:E], bs(0, E))
                k = project("k", key, w[E:2 * E], bs(E, 2 * E))
                v = project("v", value, w[2 * E:], bs(2 * E, 3 * E))
        else:
            bias = self.in_proj_bias
            bs = (lambda lo, hi: bias[lo:hi] if bias is not None else None)
            q = project("q", query, self.q_proj_weight, bs(0, E))
            k = project("k", key, self.k_proj_weight, bs(E, 2 * E))
            v = project("v", value, self.v_proj_weight, bs(2 * E, 3 * E))
        q = q.reshape(T, B * H, D).transpose(0, 1)
        k = k.reshape(S, B * H, D).transpose(0, 1)
        v = v.reshape(S, B * H, D).transpose(0, 1)
        key_padding_mask = F._canonical_mask(mask=key_padding_mask, mask_name="key_padding_mask",
                                             other_type=F._none_or_dtype(attn_mask), other_name="attn_mask",
                                             target_type=q.dtype)
        attn_mask = F._canonical_mask(mask=attn_mask, mask_name="attn_mask", other_type=None, other_name="",
                                      target_type=q.dtype, check_other=False)
        if is_causal and attn_mask is None:
            attn_mask = torch.triu(torch.full((T, S), float("-inf"), dtype=q.dtype), diagonal=1)
        mask = None
        if attn_mask is not None:
            mask = attn_mask.unsqueeze(0) if attn_mask.dim() == 2 else attn_mask
        if key_padding_mask is not None:
            kpm = key_padding_mask.view(B, 1, 1, S).expand(-1, H, -1, -1).reshape(B * H, 1, S)
            mask = kpm if mask is None else mask + kpm
        # The two products of activations as F.multi_head_attention_forward computes them (the
        # ONNX export traced that code): with need_weights q * sqrt(1 / D) x k^T by bmm, else
        # scaled_dot_product_attention on [B, H, T, D]; dopt's plan may quantize both operands.
        bmm = ORIGINAL.get("bmm", torch.bmm)
        if need_weights:
            qs, kt = pairs.quantize(pairs.scope(), q * math.sqrt(1.0 / float(D)), k.transpose(-2, -1))
            scores = bmm(qs, kt)
            if mask is not None:
                scores = mask + scores
            attn = torch.softmax(scores, dim=-1)
            aq, vq = pairs.quantize(pairs.scope(), attn, v)
            out = bmm(aq, vq).transpose(0, 1).reshape(T * B, E)
        else:
            if mask is not None:
                mask = mask.unsqueeze(0) if (mask.size(0) == 1 and mask.dim() == 3) else mask.view(B, H, -1, S)
            o = pairs.attention(pairs.scope(), q.reshape(B, H, T, D), k.reshape(B, H, S, D), v.reshape(B, H, S, D),
                                mask)
            out = o.permute(2, 0, 1, 3).reshape(T * B, E)
        out = project("out", out, self.out_proj.weight, self.out_proj.bias).view(T, B, E)
        if self.batch_first:
            out = out.transpose(0, 1)
        if not need_weights:
            return out, None
        attn = attn.view(B, H, T, S)
        return out, (attn.mean(dim=1) if average_attn_weights else attn)

    mha.forward = types.MethodType(forward, mha)

    class Calls:
        def reset_calls(self):
            state.calls.clear()

        def check_calls(self):
            for role, n in state.used.items():
                if state.calls.get(role, 0) != n:
                    raise HelperError("nn.MultiheadAttention '%s' ran its %s projection %d time(s) while tracing, "
                                      "dopt's plan quantizes %d call(s) of it"
                                      % (name, role, state.calls.get(role, 0), n))

    return Calls()


def cmd_build_pt(args):
    import numpy as np

    global PAIRS
    torch = import_torch()
    patch_attention_ops(torch)
    torch, model, _, names, inputs = prepare(args, quiet=True)
    nn = torch.nn
    with open(args.plan) as f:
        plan = json.load(f)
    modules = dict(model.named_modules())
    pair_ops = [op for op in plan["ops"] if op.get("pair")]
    plan["ops"] = [op for op in plan["ops"] if not op.get("pair")]
    pairs = ActivationPairs(torch, pair_ops, plan.get("pair_scopes") or {})
    equalized = plan.get("equalized") or []
    if equalized:
        with torch.no_grad():
            float_before = model(*inputs)
    by_module = {}
    for op in plan["ops"]:
        by_module.setdefault(op["module"], []).append(op)
    supported = (nn.Linear, nn.modules.conv._ConvNd)
    # nn.MultiheadAttention runs its projections with F.linear on its own parameters (in_proj_weight,
    # out_proj.weight), not by calling a module: its quantized ops are carried by a forward() of its own.
    attention_ops = {}
    for mname in list(by_module):
        m = modules.get(mname)
        owner = mname[:-len(".out_proj")] if mname.endswith(".out_proj") else None
        if isinstance(m, nn.MultiheadAttention):
            attention_ops.setdefault(mname, ([], []))[0].extend(by_module.pop(mname))
        elif owner is not None and isinstance(modules.get(owner), nn.MultiheadAttention):
            attention_ops.setdefault(owner, ([], []))[1].extend(by_module.pop(mname))
    for op in pair_ops:  # an attention whose products are quantized runs the helper's forward() too
        scope = op["scope"]
        if not isinstance(modules.get(scope), nn.MultiheadAttention):
            scope = re.sub(r"_\d+$", "", scope)  # a later call of the module
        if isinstance(modules.get(scope), nn.MultiheadAttention):
            attention_ops.setdefault(scope, ([], []))
    # nn.LSTM / nn.GRU / nn.RNN: one ONNX op per layer, replaced by a layer-by-layer module.
    recurrent_ops = {}
    for mname in list(by_module):
        if recurrent_kind(torch, modules.get(mname))[0] is not None:
            recurrent_ops[mname] = by_module.pop(mname)
    # BatchNorm folding first, exactly where dopt folded.
    folded = set()
    for mname, ops in by_module.items():
        m = modules.get(mname)
        if m is None:
            raise HelperError("quantized op '%s' (%s) maps to no module of the model" % (ops[0]["node"], ops[0]["op_type"]))
        if not isinstance(m, supported):
            raise HelperError("quantized op '%s' maps to module '%s' (%s), which is not a Conv or Linear"
                              % (ops[0]["node"], mname, type(m).__name__))
        fold_bn_module(torch, model, modules, ops[0].get("fold_bn"), mname, folded)
    if equalized:
        # Equalized Convs left in float get their BatchNorm folded too (their weights change).
        for e in equalized:
            fold_bn_module(torch, model, modules, e.get("fold_bn"), e["module"], folded)
        equalize_modules(torch, modules, equalized)
        with torch.no_grad():
            check_same_float(torch, float_before, model(*inputs), "equalization")
    plan_dir = os.path.dirname(os.path.abspath(args.plan))
    wrappers = {}
    for mname, ops in by_module.items():
        m = modules[mname]
        wq, k = carry_other_folds(torch, ops[0], m.weight, "module '%s''s weight" % mname, plan_dir)
        w = make_wrapper(torch, m, activation_quants(ops), wq, quantized_bias(torch, m.bias, ops[0], k, plan_dir))
        parent, attr = parent_of(model, mname)
        setattr(parent, attr, w)
        wrappers[mname] = (w, len(ops))
    for mname, ops in recurrent_ops.items():
        w, calls = quantize_recurrent(torch, modules[mname], mname, ops, plan_dir)
        parent, attr = parent_of(model, mname)
        setattr(parent, attr, w)
        wrappers[mname] = (w, calls)
    for mname, (in_ops, out_ops) in attention_ops.items():
        wrappers[mname] = (quantize_attention(torch, modules[mname], mname, in_ops, out_ops, plan_dir, pairs), None)
    wrappers["<pairs>"] = (pairs, None)

    def reset(_module, _inputs):
        for w, _ in wrappers.values():
            w.reset_calls() if hasattr(w, "reset_calls") else setattr(w, "calls", 0)

    model.register_forward_pre_hook(reset)
    hooks = pairs.hook(model) if pair_ops else []
    PAIRS = pairs if pair_ops else None
    for prm in model.parameters():
        prm.requires_grad_(False)  # an inference model: outputs carry no autograd history
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            traced = torch.jit.trace(model, inputs, strict=False, check_trace=False)
        except Exception as e:
            raise HelperError("tracing the quantized model failed: %s: %s" % (type(e).__name__, " ".join(str(e).split())[:400]))
        finally:
            PAIRS = None
            for h in hooks:
                h.remove()
    for mname, (w, n) in wrappers.items():
        if n is None:
            w.check_calls()
        elif w.calls != n:
            raise HelperError("module '%s' ran %d time(s) while tracing, dopt's plan quantizes %d call(s) of it"
                              % (mname, w.calls, n))
    torch.jit.save(traced, args.output)


# ---------------------------------------------------------------- main

def main(argv=None):
    p = argparse.ArgumentParser(prog="dopt-torch-helper")
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("export", "build-pt"):
        s = sub.add_parser(name)
        s.add_argument("--model", required=True)
        s.add_argument("--weight", required=True)
        s.add_argument("--model_class", default="")
        s.add_argument("--input_shape", default="")
        if name == "export":
            s.add_argument("--out_dir", required=True)
        else:
            s.add_argument("--plan", required=True)
            s.add_argument("--output", required=True)
    args = p.parse_args(argv)
    try:
        import_torch()
        if args.cmd == "export":
            cmd_export(args)
        else:
            cmd_build_pt(args)
    except HelperError as e:
        print("dopt-helper: error: " + " ".join(str(e).split()), file=sys.stderr, flush=True)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
