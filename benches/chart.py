#!/usr/bin/env python3
"""Bar chart of the Parkade/tokio ratios written by `compare --json PATH`, as a PNG.

    cargo run --release -p benches --bin compare -- --json results.json
    python3 benches/chart.py results.json docs/compare.png

One horizontal bar per workload from 1.0 to its ratio, on a log scale (so 0.5 and 2 are
equally far from 1.0); green below 1.0 (Parkade faster), red above; a line at 1.0; the
geometric mean in the title. Python standard library only: the PNG is drawn pixel by pixel
with a built-in 5x7 font and written with zlib.
"""

import json
import math
import os
import struct
import sys
import zlib

# 5x7 glyphs, rows top to bottom, plus two rows of descender for g, j, p, q, y and the
# comma; uppercase letters are drawn as lowercase.
FONT = {
    "a": [".....", ".....", ".###.", "....#", ".####", "#...#", ".####"],
    "b": ["#....", "#....", "#.##.", "##..#", "#...#", "#...#", "####."],
    "c": [".....", ".....", ".###.", "#....", "#....", "#...#", ".###."],
    "d": ["....#", "....#", ".##.#", "#..##", "#...#", "#...#", ".####"],
    "e": [".....", ".....", ".###.", "#...#", "#####", "#....", ".###."],
    "f": ["..##.", ".#..#", ".#...", "###..", ".#...", ".#...", ".#..."],
    "g": [".....", ".....", ".####", "#...#", "#...#", "#...#", ".####", "....#", ".###."],
    "h": ["#....", "#....", "#.##.", "##..#", "#...#", "#...#", "#...#"],
    "i": ["..#..", ".....", ".##..", "..#..", "..#..", "..#..", ".###."],
    "j": ["...#.", ".....", "..##.", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.."],
    "k": ["#....", "#....", "#..#.", "#.#..", "##...", "#.#..", "#..#."],
    "l": [".##..", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."],
    "m": [".....", ".....", "##.#.", "#.#.#", "#.#.#", "#...#", "#...#"],
    "n": [".....", ".....", "#.##.", "##..#", "#...#", "#...#", "#...#"],
    "o": [".....", ".....", ".###.", "#...#", "#...#", "#...#", ".###."],
    "p": [".....", ".....", "####.", "#...#", "#...#", "#...#", "####.", "#....", "#...."],
    "q": [".....", ".....", ".####", "#...#", "#...#", "#...#", ".####", "....#", "....#"],
    "r": [".....", ".....", "#.##.", "##..#", "#....", "#....", "#...."],
    "s": [".....", ".....", ".###.", "#....", ".###.", "....#", "####."],
    "t": [".#...", ".#...", "###..", ".#...", ".#...", ".#..#", "..##."],
    "u": [".....", ".....", "#...#", "#...#", "#...#", "#..##", ".##.#"],
    "v": [".....", ".....", "#...#", "#...#", "#...#", ".#.#.", "..#.."],
    "w": [".....", ".....", "#...#", "#...#", "#.#.#", "#.#.#", ".#.#."],
    "x": [".....", ".....", "#...#", ".#.#.", "..#..", ".#.#.", "#...#"],
    "y": [".....", ".....", "#...#", "#...#", "#...#", "#...#", ".####", "....#", ".###."],
    "z": [".....", ".....", "#####", "...#.", "..#..", ".#...", "#####"],
    "0": [".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."],
    "1": ["..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."],
    "2": [".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"],
    "3": ["#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."],
    "4": ["...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."],
    "5": ["#####", "#....", "####.", "....#", "....#", "#...#", ".###."],
    "6": ["..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."],
    "7": ["#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."],
    "8": [".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."],
    "9": [".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."],
    "_": [".....", ".....", ".....", ".....", ".....", ".....", "#####"],
    ".": [".....", ".....", ".....", ".....", ".....", ".##..", ".##.."],
    ",": [".....", ".....", ".....", ".....", ".....", ".##..", ".##..", "..#..", ".#..."],
    ";": [".....", ".##..", ".##..", ".....", ".....", ".##..", ".##..", "..#..", ".#..."],
    ":": [".....", ".##..", ".##..", ".....", ".##..", ".##..", "....."],
    "/": [".....", "....#", "...#.", "..#..", ".#...", "#....", "....."],
    "(": ["...#.", "..#..", ".#...", ".#...", ".#...", "..#..", "...#."],
    ")": [".#...", "..#..", "...#.", "...#.", "...#.", "..#..", ".#..."],
    "<": ["...#.", "..#..", ".#...", "#....", ".#...", "..#..", "...#."],
    ">": [".#...", "..#..", "...#.", "....#", "...#.", "..#..", ".#..."],
    "=": [".....", ".....", "#####", ".....", "#####", ".....", "....."],
    "-": [".....", ".....", ".....", "#####", ".....", ".....", "....."],
    " ": ["....."] * 7,
}

SCALE = 2  # font pixels per glyph pixel
ADVANCE = 6 * SCALE  # glyph width plus one column of spacing
TEXT_HEIGHT = 7 * SCALE

WHITE = (255, 255, 255)
BLACK = (0, 0, 0)
GRID = (220, 220, 220)
FASTER = (46, 139, 87)
SLOWER = (200, 60, 60)


class Canvas:
    def __init__(self, width, height):
        self.width, self.height = width, height
        self.pixels = bytearray(WHITE * (width * height))

    def rect(self, x0, y0, x1, y1, color):
        x0, x1 = sorted((int(round(x0)), int(round(x1))))
        y0, y1 = sorted((int(round(y0)), int(round(y1))))
        x0, y0 = max(x0, 0), max(y0, 0)
        x1, y1 = min(x1, self.width), min(y1, self.height)
        row = bytes(color) * max(x1 - x0, 0)
        for y in range(y0, y1):
            start = (y * self.width + x0) * 3
            self.pixels[start : start + len(row)] = row

    def text(self, x, y, text, color=BLACK):
        for i, char in enumerate(text):
            glyph = FONT.get(char.lower(), FONT[" "])
            gx = x + i * ADVANCE
            for r, line in enumerate(glyph):
                for c, bit in enumerate(line):
                    if bit == "#":
                        px, py = gx + c * SCALE, y + r * SCALE
                        self.rect(px, py, px + SCALE, py + SCALE, color)

    def png(self):
        raw = b"".join(
            b"\x00" + bytes(self.pixels[y * self.width * 3 : (y + 1) * self.width * 3])
            for y in range(self.height)
        )

        def chunk(kind, data):
            body = kind + data
            return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b"")
        )


def tick_label(t):
    if t < 1 and abs(1 / t - round(1 / t)) < 1e-9:
        return "1/%d" % round(1 / t)
    return "%g" % t


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: chart.py RESULTS.json OUT.png")
    with open(sys.argv[1]) as f:
        rows = json.load(f)
    if not rows:
        sys.exit("chart.py: no rows in %s" % sys.argv[1])
    ratios = [row["ratio"] for row in rows]
    geomean = math.exp(sum(math.log(r) for r in ratios) / len(ratios))

    row_height, bar_height = 26, 16
    left = 16 + max(len(row["workload"]) for row in rows) * ADVANCE + 12
    plot_width, right = 560, 90
    top, bottom = 64, 44
    width = left + plot_width + right
    height = top + row_height * len(rows) + bottom
    canvas = Canvas(width, height)

    lo = math.log2(min(min(ratios), 1.0) / 1.15)
    hi = math.log2(max(max(ratios), 1.0) * 1.15)

    def x_of(ratio):
        return left + (math.log2(ratio) - lo) / (hi - lo) * plot_width

    candidates = [2.0**k for k in range(-10, 11)]
    if hi - lo < 3:
        candidates += [0.75, 1.25, 1.5]
    # Ticks nearest 1.0 first, so that 1.0 keeps its label when labels would collide.
    ticks = sorted(
        (t for t in candidates if lo <= math.log2(t) <= hi), key=lambda t: abs(math.log2(t))
    )
    plot_bottom = top + row_height * len(rows)
    labelled = []  # (x0, x1) of the labels drawn
    for t in ticks:
        x = x_of(t)
        label = tick_label(t)
        x0 = int(x - len(label) * ADVANCE / 2)
        x1 = x0 + len(label) * ADVANCE
        if any(x0 < b + ADVANCE and a < x1 + ADVANCE for a, b in labelled):
            continue
        labelled.append((x0, x1))
        canvas.rect(x, top - 4, x + 1, plot_bottom, GRID)
        canvas.text(x0, plot_bottom + 10, label)

    for i, row in enumerate(rows):
        y = top + i * row_height
        mid = y + row_height // 2
        canvas.text(16, mid - TEXT_HEIGHT // 2, row["workload"])
        ratio = row["ratio"]
        color = FASTER if ratio < 1 else SLOWER
        canvas.rect(x_of(1.0), mid - bar_height // 2, x_of(ratio), mid + bar_height // 2, color)
        canvas.text(left + plot_width + 14, mid - TEXT_HEIGHT // 2, "%.2f" % ratio, color)

    one = x_of(1.0)
    canvas.rect(one - 1, top - 8, one + 1, plot_bottom + 4, BLACK)
    canvas.text(16, 14, "parkade/tokio time per iteration, geomean %.2f" % geomean)
    canvas.text(16, 36, "(< 1: parkade faster; log scale)", (90, 90, 90))

    os.makedirs(os.path.dirname(sys.argv[2]) or ".", exist_ok=True)
    with open(sys.argv[2], "wb") as f:
        f.write(canvas.png())


if __name__ == "__main__":
    main()
