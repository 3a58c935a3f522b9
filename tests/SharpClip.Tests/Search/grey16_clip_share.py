#!/usr/bin/python3
"""Reference for ImageWarningsTests: the share of a 16-bit grey PNG's samples that Pillow's I -> RGB conversion clips
to white (sample >= 255). Pure Python (zlib + PNG unfiltering by hand), independent of SharpClip and libvips.
Usage: grey16_clip_share.py FILE.png   (prints width, height, min, max, share)"""
import struct, sys, zlib

data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", data[16:29])
assert (depth, colour, interlace) == (16, 0, 0), "expects a non-interlaced 16-bit grey PNG"
pos, idat = 8, b""
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    if kind == b"IDAT":
        idat += data[pos + 8:pos + 8 + n]
    pos += 12 + n
raw, bpp, stride = zlib.decompress(idat), 2, w * 2
prev, samples, i = bytearray(stride), [], 0
for _ in range(h):
    f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
    i += 1 + stride
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b, c = prev[x], (prev[x - bpp] if x >= bpp else 0)
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    samples += [(line[2 * x] << 8) | line[2 * x + 1] for x in range(w)]
    prev = line
print(w, h, min(samples), max(samples), sum(v >= 255 for v in samples) / len(samples))
