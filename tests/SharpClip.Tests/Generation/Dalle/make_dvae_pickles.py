#!/usr/bin/python3
"""Writes the dVAE module pickles the DALL-E loader tests read (tests never run Python).

openai/DALL-E released its dVAE as `encoder.pkl` / `decoder.pkl`: `torch.save` of the whole `dall_e.Encoder` /
`dall_e.Decoder` module objects, not state dicts. This script builds tiny ones with the real package and saves them
the same way, so SharpClip's pickle reader is tested on what that package writes.

Regenerate (Debian 12: python3-torch 1.13.1, python3-attr, python3-numpy; use the system interpreter):

    git --git-dir=/work/.mirror/openai+DALL-E/repo archive HEAD | tar -x -C /tmp/dall-e     # or any checkout
    /usr/bin/python3 tests/SharpClip.Tests/Generation/Dalle/make_dvae_pickles.py /tmp/dall-e

Written into data/ beside this script:
  dvae_pickled.encoder.pkl          torch.save(Encoder)   (zip format, torch's default)
  dvae_pickled.decoder.pkl          torch.save(Decoder)   (the pre-1.6 legacy format, which torch.load still reads;
                                    its per-class source-code records hold a placeholder, not the package's code)
  dvae_pickled.encoder.safetensors  Encoder.state_dict()  (the expected tensors, same bytes)
  dvae_pickled.decoder.safetensors  Decoder.state_dict()
  dvae_pickled.outputs.safetensors  the package's own outputs, computed on the modules read back with
                                    dall_e.load_model (torch.load), as notebooks/usage.ipynb uses them:
      image [B,3,h,w] in [0,1]; mapped = map_pixels(image); encoder_logits = Encoder(mapped);
      tokens = argmax(encoder_logits, 1); argmax_margin (top-1 minus top-2 logit);
      tokens_given [B,h/8,w/8] (random); decoder_logits = Decoder(one_hot(tokens_given));
      decoded = unmap_pixels(sigmoid(decoder_logits[:, :3]))
  hostile_*.pkl                     a still tinier Encoder pickle in which one module was replaced by an object that
                                    pickles as a call to a global outside the allow-list (os.system, builtins.eval, an
                                    unlisted torch module class). Loading any of them in Python would run the call.

The models are deliberately not the fixture set's shapes: two blocks per group (so `block_2` and the id_path of a
group's first block are both exercised), n_hid 8, vocabulary 32 and a non-square 24x40 image. The package's attrs
validators (n_hid >= 64, vocab_size >= 512) are switched off while constructing them, as for the shared fixtures.
Every parameter is perturbed (the package zero-initialises biases) so that a swapped or misread tensor shows.
Output is deterministic except the zip timestamps of the .pkl files.
"""
import json
import os
import struct
import sys
import types

import attr
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "data")

if len(sys.argv) != 2:
    sys.exit(f"usage: {sys.argv[0]} PATH_TO_openai_DALL-E_CHECKOUT")
sys.path.insert(0, os.path.abspath(sys.argv[1]))
try:
    import requests  # noqa: F401  dall_e/__init__.py imports it for load_model's URLs only
except ImportError:
    sys.modules["requests"] = types.ModuleType("requests")

import dall_e  # noqa: E402
from dall_e import Decoder, Encoder, load_model, map_pixels, unmap_pixels  # noqa: E402

# The legacy format stores each module class's source code beside its name (to warn when the code changed). The
# file would then carry a verbatim copy of the package's and torch's sources; store a placeholder text instead. The
# record keeps its real form, ('module', class, file name, source text), which is what a reader must get past.
import torch.serialization  # noqa: E402


def _placeholder_source(obj):
    return ["# source omitted by make_dvae_pickles.py\n"], 0, obj.__module__.replace(".", "/") + ".py"


torch.serialization.get_source_lines_and_file = _placeholder_source

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


def write_safetensors(path, tensors):
    dtypes = {torch.float32: "F32", torch.int64: "I64"}
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        raw = t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": dtypes[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def out(name):
    return os.path.join(OUT, name)


def perturb(module, output_conv_scale):
    """The package zero-initialises every bias: give them values, and make the outputs far from constant."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith(".b"):
                p.copy_(0.02 * torch.randn_like(p))
        w = module.blocks.output.conv.w
        if isinstance(module, Encoder):
            w.sub_(w.mean(dim=0, keepdim=True))  # zero-mean rows: tokens differ between positions
        w.mul_(output_conv_scale)


torch.manual_seed(1601)
with attr.validators.disabled():
    encoder = Encoder(n_hid=8, n_blk_per_group=2, vocab_size=32)
    decoder = Decoder(n_init=16, n_hid=8, n_blk_per_group=2, vocab_size=32)
perturb(encoder, 4.0)
perturb(decoder, 8.0)
encoder.eval()
decoder.eval()

os.makedirs(OUT, exist_ok=True)
torch.save(encoder, out("dvae_pickled.encoder.pkl"))
torch.save(decoder, out("dvae_pickled.decoder.pkl"), _use_new_zipfile_serialization=False)
write_safetensors(out("dvae_pickled.encoder.safetensors"), encoder.state_dict())
write_safetensors(out("dvae_pickled.decoder.safetensors"), decoder.state_dict())

# The outputs, from the modules as the package's own loader returns them.
enc = load_model(out("dvae_pickled.encoder.pkl"), torch.device("cpu"))
dec = load_model(out("dvae_pickled.decoder.pkl"), torch.device("cpu"))
assert type(enc) is Encoder and type(dec) is Decoder
for a, b in zip(enc.state_dict().items(), encoder.state_dict().items()):
    assert a[0] == b[0] and torch.equal(a[1], b[1])

g = torch.Generator().manual_seed(1602)
B, h, w = 2, 24, 40
image = torch.rand(B, 3, h, w, generator=g)
tokens_given = torch.randint(0, dec.vocab_size, (B, h // 8, w // 8), generator=g)
with torch.no_grad():
    mapped = map_pixels(image)
    logits = enc(mapped)
    tokens = torch.argmax(logits, dim=1)
    top2 = torch.topk(logits, 2, dim=1).values
    margin = top2[:, 0] - top2[:, 1]
    one_hot = F.one_hot(tokens_given, num_classes=dec.vocab_size).permute(0, 3, 1, 2).float()
    decoder_logits = dec(one_hot)
    decoded = unmap_pixels(torch.sigmoid(decoder_logits[:, :3]))
write_safetensors(out("dvae_pickled.outputs.safetensors"), {
    "image": image, "mapped": mapped, "encoder_logits": logits, "tokens": tokens, "argmax_margin": margin,
    "tokens_given": tokens_given, "decoder_logits": decoder_logits, "decoded": decoded,
})
print(f"encoder {sum(p.numel() for p in encoder.parameters())} params, decoder {sum(p.numel() for p in decoder.parameters())}; "
      f"distinct tokens {tokens.unique().numel()}, smallest argmax margin {margin.min().item():.3g}, "
      f"decoded range [{decoded.min().item():.3f}, {decoded.max().item():.3f}]")


# Hostile variants: one submodule of a real (tiny) Encoder replaced by an object that pickles as a call.
class SystemCall:
    def __reduce__(self):
        return (os.system, ("touch sharpclip_pwned_marker",))


class EvalCall:
    def __reduce__(self):
        return (eval, ("__import__('os').system('touch sharpclip_pwned_marker')",))


def hostile(name, replacement):
    torch.manual_seed(1603)
    with attr.validators.disabled():
        small = Encoder(n_hid=4, n_blk_per_group=1, vocab_size=8)
    small.blocks.group_1._modules["pool"] = replacement
    torch.save(small, out(name))


hostile("hostile_os_system.encoder.pkl", SystemCall())
hostile("hostile_eval.encoder.pkl", EvalCall())
hostile("hostile_unlisted_module.encoder.pkl", nn.AvgPool2d(2))
