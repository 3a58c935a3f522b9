#!/usr/bin/python3
"""The reference side of `bench embed`: embed a list of image files the way a PyTorch user of openai/CLIP does.

    /usr/bin/python3 bench/embed_reference.py --clip DIR --files LIST [--batch 32] [--threads 2]

PIL decodes each file, openai/CLIP's own `_transform(224)` (clip/clip.py: Resize bicubic, CenterCrop, convert("RGB"),
ToTensor, Normalize) preprocesses it, and openai/CLIP's `model.py` ViT-B/32 (random weights, float32, eval, no_grad)
embeds batches of `--batch` images with `--threads` intra-op threads: a plain loop, one image after another, as the
README's usage example does. DIR is a checkout of openai/CLIP (`bench embed` extracts one from a mirror). ftfy is not
packaged for Debian 12 and the tokenizer is never used here, so a stand-in module satisfies clip.py's import.
Prints one JSON line: images, seconds (decode + preprocess + model, from the first file opened to the last embedding),
images_per_s, load_s (building the model), peak_rss_mib, torch version.
"""
import argparse, json, resource, sys, time, types


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clip", required=True)
    ap.add_argument("--files", required=True, help="a text file with one image path per line")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    t0 = time.perf_counter()
    import torch
    from PIL import Image
    torch.set_num_threads(args.threads)
    sys.modules.setdefault("ftfy", types.SimpleNamespace(fix_text=lambda s: s))
    sys.path.insert(0, args.clip)
    from clip.clip import _transform
    from clip.model import CLIP

    torch.manual_seed(0)
    # ViT-B/32's hyper-parameters, as clip.model.build_model reads them from the released checkpoint.
    model = CLIP(embed_dim=512, image_resolution=224, vision_layers=12, vision_width=768, vision_patch_size=32,
                 context_length=77, vocab_size=49408, transformer_width=512, transformer_heads=8, transformer_layers=12)
    model.eval()
    preprocess = _transform(224)
    load_s = time.perf_counter() - t0

    files = [l.rstrip("\n") for l in open(args.files, encoding="utf-8") if l.strip()]
    dims = None
    start = time.perf_counter()
    with torch.no_grad():
        for i in range(0, len(files), args.batch):
            batch = torch.stack([preprocess(Image.open(f)) for f in files[i:i + args.batch]])
            features = model.encode_image(batch)
            dims = tuple(features.shape[1:])
    seconds = time.perf_counter() - start
    # Which BLAS torch's matrix products went to: Debian's python3-torch takes whatever libblas.so.3 points at, and the
    # reference BLAS (no OpenBLAS installed) is ~10x slower — a bar that low would flatter SharpClip.
    blas = sorted({l.split()[-1] for l in open("/proc/self/maps") if "blas" in l.lower() and l.split()[-1].startswith("/")})
    print(json.dumps({
        "images": len(files), "seconds": seconds, "images_per_s": len(files) / seconds, "load_s": load_s,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, "embedding": dims,
        "torch": torch.__version__, "threads": torch.get_num_threads(), "batch": args.batch, "blas": blas,
    }))


if __name__ == "__main__":
    main()
