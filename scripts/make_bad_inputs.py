"""Make the bad-input corpus in tests/data/bad/: broken, misnamed and hostile data files.

Usage::

    python scripts/make_bad_inputs.py            # (re)creates tests/data/bad/
    python scripts/make_bad_inputs.py OUT_DIR    # somewhere else (the tests compare)

Every file is built from bytes written here - no image, Parquet or Excel library encodes
anything - so the output is the same byte for byte on every machine and library version.
``cases.json`` lists the cases: the file or folder, the command to run on it and what
its one-line error must say (``refused``), or what must hold when the input is valid
data that merely looks hostile (``valid``). Symbolic-link loops are not stored (git and
some file systems do not keep them): their cases name the links to make (``links``),
and the test makes them in a temporary folder.

Do not edit the corpus by hand: change this script and run it again.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import pickle
import shutil
import struct
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "tests" / "data" / "bad"

#: A zip entry's time stamp: fixed, so archives are the same on every run.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)

#: The command of each kind of case; ``{file}`` is the case's input, ``{out}`` a run
#: directory (or output) that must not exist afterwards.
PROFILE = ["profile", "{file}", "--out", "{out}", "-q"]
TRAIN = ["train", "{file}", "--out", "{out}", "-q", "--time-budget", "5s", "--max-trials", "1"]
#: ``{model}`` is a tiny image classifier the test trains once; ``{out}`` the CSV to write.
PREDICT = ["predict", "{model}", "{file}", "--out", "{out}"]
#: A valid case runs both: the profile and the recommendation (which writes Markdown and
#: HTML), and neither may show the hostile text raw.
VALID = [PROFILE, ["recommend", "{file}", "--out", "{out}", "-q"]]


# -- bytes of each format ----------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int, height: int, *, rows: bytes | None = None) -> bytes:
    """A grey 8-bit PNG of ``width`` x ``height``; ``rows`` (raw filtered scanlines)
    defaults to a gradient. A header may claim any size: the pixels stay tiny."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    if rows is None:
        rows = b"".join(
            b"\x00" + bytes((x * 16 + y) % 256 for x in range(width)) for y in range(height)
        )
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(rows, 0))
        + _png_chunk(b"IEND", b"")
    )


def jpeg_header(width: int, height: int) -> bytes:
    """The start of a baseline grey JPEG: SOI, JFIF, a quantisation table and a frame
    header claiming ``width`` x ``height`` - and nothing after it (no scan, no EOI)."""
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    dqt = b"\x00" + bytes(range(1, 65))
    sof = struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00"

    def segment(marker: int, data: bytes) -> bytes:
        return struct.pack(">BBH", 0xFF, marker, len(data) + 2) + data

    return b"\xff\xd8" + segment(0xE0, app0) + segment(0xDB, dqt) + segment(0xC0, sof)


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def npy_objects(shape: tuple[int, ...]) -> bytes:
    """An ``.npy`` of dtype object: the header, then a pickle (of plain Python values, so
    its bytes do not depend on the NumPy version). Readers must refuse it unread."""
    return npy_header(shape, "|O") + pickle.dumps(["text", {"key": 1}, 3], protocol=2)


def npy_header(shape: tuple[int, ...], dtype: str) -> bytes:
    """A version 1.0 ``.npy`` header claiming ``shape`` and ``dtype``, with no data."""
    text = f"{{'descr': '{dtype}', 'fortran_order': False, 'shape': {shape!r}, }}"
    text += " " * (63 - (10 + len(text)) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text.encode("latin-1")


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


#: Stands for an object array in :func:`npz`.
OBJECTS = object()


def npz(arrays: dict[str, np.ndarray]) -> bytes:
    return zip_bytes(
        {
            f"{key}.npy": npy_objects((3,)) if value is OBJECTS else npy(value)
            for key, value in arrays.items()
        }
    )


def gz(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=0, filename="", mtime=0) as handle:
        handle.write(data)
    return buffer.getvalue()


def xlsx(rows: list[list[str]]) -> bytes:
    """A minimal Excel workbook of one sheet holding ``rows`` of inline strings."""

    def cell(col: int, row: int, text: str) -> str:
        ref = chr(ord("A") + col) + str(row)
        return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'

    sheet_rows = "".join(
        f'<row r="{r}">' + "".join(cell(c, r, v) for c, v in enumerate(row)) + "</row>"
        for r, row in enumerate(rows, start=1)
    )
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006"
    members = {
        "[Content_Types].xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{pkg}/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{pkg}/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}" '
            f'xmlns:r="{rel}"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/>'
            "</sheets></workbook>"
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{pkg}/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            "</Relationships>"
        ),
        "xl/worksheets/sheet1.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{main}">'
            f"<sheetData>{sheet_rows}</sheetData></worksheet>"
        ),
    }
    return zip_bytes({name: text.encode("utf-8") for name, text in members.items()})


def table(rows: list[list[object]], delimiter: str = ",") -> bytes:
    return "".join(delimiter.join(str(v) for v in row) + "\n" for row in rows).encode("utf-8")


def good_table(rows: int = 30) -> list[list[object]]:
    """A small valid table: a number, a category and a 0/1 label."""
    out: list[list[object]] = [["size", "colour", "label"]]
    for i in range(rows):
        out.append([round(1.5 + i * 0.37, 2), ("red", "green", "blue")[i % 3], i % 2])
    return out


GOOD_CSV = table(good_table())
GOOD_PNG = png(8, 8)


def ts_file(body: str) -> bytes:
    header = "@problemName demo\n@timeStamps false\n@univariate true\n@classLabel true a b\n"
    return (header + body).encode("utf-8")


# -- the cases ---------------------------------------------------------------------------


class Corpus:
    """Collects the files and the manifest of the cases."""

    def __init__(self, out: Path):
        self.out = out
        self.cases: list[dict] = []

    def write(self, relative: str, data: bytes) -> str:
        target = self.out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return relative

    def refused(self, name: str, file: str, expect: list[str], *, command=None, why: str, **extra):
        self.cases.append(
            {
                "name": name,
                "group": "refused",
                "file": file,
                "command": command or PROFILE,
                "expect": expect,
                "why": why,
                **extra,
            }
        )

    def valid(self, name: str, file: str, *, escaped: list[str], why: str, **extra):
        """A valid file whose ``escaped`` texts must not appear raw in any output."""
        self.cases.append(
            {
                "name": name,
                "group": "valid",
                "file": file,
                "commands": VALID,
                "escaped": escaped,
                "why": why,
                **extra,
            }
        )


def tables(c: Corpus) -> None:
    c.refused("csv-zero-byte", c.write("csv/zero_byte.csv", b""), ["empty"], why="0 bytes")
    c.refused(
        "csv-blank-lines",
        c.write("csv/blank_lines.csv", b"\n \n\t\n\n"),
        ["empty"],
        why="only blank lines",
    )
    c.refused(
        "csv-header-only",
        c.write("csv/header_only.csv", b"size,colour,label\n"),
        ["no data rows"],
        why="a header and nothing under it",
    )
    c.refused(
        "csv-ragged",
        c.write("csv/ragged.csv", GOOD_CSV + b"1.0,red,1,extra,fields\n"),
        ["line 32", "fix that row"],
        why="a row with more fields than the header",
    )
    c.refused(
        "csv-truncated-quote",
        c.write("csv/truncated_quote.csv", GOOD_CSV + b'2.0,"red, and then the file ends'),
        ["fix that row"],
        why="cut off inside a quoted value",
    )
    c.refused(
        "csv-duplicate-names",
        c.write("csv/duplicate_names.csv", table([["a", "b", "a"], [1, 2, 3], [4, 5, 6]])),
        ["duplicate column names", "rename"],
        why="two columns of one name",
    )
    c.refused(
        "csv-is-png",
        c.write("csv/picture.csv", GOOD_PNG),
        ["NUL bytes", "right file"],
        why="a PNG named .csv",
    )
    c.refused(
        "csv-is-parquet",
        c.write("csv/parquet.csv", b"PAR1" + b"\x15\x04" * 20 + b"PAR1"),
        ["Parquet", "rename"],
        why="Parquet bytes named .csv",
    )
    # UTF-8 for the first 64 KiB the sniffer reads, then cp1252 bytes.
    utf8_head = "name,city\n" + "".join(f"person {i},Zürich\n" for i in range(4000))
    c.refused(
        "csv-mixed-encodings",
        c.write(
            "csv/mixed_encodings.csv",
            utf8_head.encode("utf-8") + "person x,Gen\xe8ve\n".encode("cp1252"),
        ),
        ["not valid utf-8", "--encoding"],
        why="UTF-8 at the top, cp1252 further down",
    )
    c.refused(
        "csv-inf-everywhere",
        c.write("csv/inf_everywhere.csv", table([["a", "b"]] + [["inf", "-inf"]] * 5)),
        ["infinite", "replace them"],
        why="every value infinite",
    )
    c.refused(
        "csv-nan-everywhere",
        c.write(
            "csv/nan_everywhere.csv", table([["a", "b", "label"]] + [["NaN", "nan", "NaN"]] * 5)
        ),
        ["'label' has no values", "fill it in"],
        why="every value missing",
    )
    c.refused(
        "csv-one-row-train",
        c.write("csv/one_row.csv", table(good_table(1))),
        ["only 1 row(s)", "add rows"],
        command=TRAIN + ["--target", "size"],
        why="a 1-row table cannot be split into train, validation and test",
    )
    c.refused("tsv-zero-byte", c.write("tsv/zero_byte.tsv", b""), ["empty"], why="0 bytes, .tsv")
    c.refused(
        "tsv-ragged",
        c.write(
            "tsv/ragged.tsv",
            table(good_table(), "\t") + b"1.0\tred\n",
        ),
        ["line 32", "tab"],
        why="a short row in a .tsv",
    )
    compressed = GOOD_CSV * 40
    c.refused(
        "csv-gz-truncated",
        c.write("compressed/truncated.csv.gz", gz(compressed)[:200]),
        ["gzip", "truncated", "re-download"],
        why="a gzip stream cut short",
    )
    c.refused(
        "csv-gz-not-gzip",
        c.write("compressed/plain_text.csv.gz", GOOD_CSV),
        ["gzip", "re-download"],
        why="plain text named .csv.gz",
    )
    c.refused(
        "csv-gz-zero-byte",
        c.write("compressed/zero_byte.csv.gz", b""),
        ["empty"],
        why="0 bytes named .csv.gz",
    )
    c.refused(
        "csv-bz2-truncated",
        c.write("compressed/truncated.csv.bz2", bz2.compress(compressed, 9)[:150]),
        ["bz2", "truncated"],
        why="a bz2 stream cut short",
    )
    c.refused(
        "csv-xz-truncated",
        c.write(
            "compressed/truncated.csv.xz",
            lzma.compress(compressed, preset=6)[:150],
        ),
        ["xz", "truncated"],
        why="an xz stream cut short",
    )
    c.refused(
        "csv-zip-truncated",
        c.write("compressed/truncated.csv.zip", zip_bytes({"data.csv": compressed})[:120]),
        ["zip", "re-create"],
        why="a zip archive cut short",
    )
    c.refused(
        "zip-slip",
        c.write("compressed/zip_slip.csv.zip", zip_bytes({"../../outside.csv": GOOD_CSV})),
        ["outside", "unzip"],
        why="an archive member whose path leaves the archive (zip slip)",
    )
    c.refused(
        "zip-absolute-member",
        c.write("compressed/absolute.csv.zip", zip_bytes({"/tmp/absolute.csv": GOOD_CSV})),
        ["outside", "unzip"],
        why="an archive member with an absolute path",
    )
    c.refused(
        "zip-two-members",
        c.write(
            "compressed/two_members.csv.zip", zip_bytes({"a.csv": GOOD_CSV, "b.csv": GOOD_CSV})
        ),
        ["exactly one", "unzip"],
        why="two files in one archive",
    )
    c.refused(
        "zip-bare-suffix",
        c.write("compressed/archive.zip", zip_bytes({"images/cat.png": GOOD_PNG})),
        ["zip archive", "unzip it"],
        why="a .zip given as data (images are not read from archives)",
    )
    c.refused(
        "parquet-zero-byte",
        c.write("parquet/zero_byte.parquet", b""),
        ["Parquet", "re-export"],
        why="0 bytes named .parquet",
    )
    c.refused(
        "parquet-truncated",
        c.write("parquet/truncated.parquet", b"PAR1" + b"\x15\x00\x15\x1c" * 16),
        ["Parquet", "re-export"],
        why="a Parquet file without its footer",
    )
    c.refused(
        "parquet-is-csv",
        c.write("parquet/table.parquet", GOOD_CSV),
        ["Parquet", "re-export"],
        why="CSV text named .parquet",
    )
    c.refused(
        "jsonl-zero-byte",
        c.write("jsonl/zero_byte.jsonl", b""),
        ["empty"],
        why="0 bytes, .jsonl",
    )
    lines = "".join(
        json.dumps({"size": i * 0.5, "colour": "red", "label": i % 2}) + "\n" for i in range(30)
    )
    c.refused(
        "jsonl-truncated",
        c.write("jsonl/truncated.jsonl", (lines + '{"size": 1.0, "colo').encode()),
        ["line 31", "JSON"],
        why="the last object cut off",
    )
    c.refused(
        "jsonl-not-objects",
        c.write("jsonl/arrays.jsonl", b"[1, 2, 3]\n[4, 5, 6]\n"),
        ["line 1", "object"],
        why="arrays instead of objects",
    )
    c.refused(
        "jsonl-type-change",
        c.write(
            "jsonl/type_change.jsonl",
            (lines + '{"size": "big", "colour": "red", "label": 1}\n').encode(),
        ),
        ["size", "one type"],
        why="a field that turns from numbers to text",
    )
    c.refused(
        "jsonl-lists",
        c.write("jsonl/lists.jsonl", b'{"a": [1, 2], "b": 1}\n{"a": [3], "b": 2}\n'),
        ["lists", "expand"],
        why="a field holding lists",
    )
    c.refused(
        "xlsx-zero-byte",
        c.write("xlsx/zero_byte.xlsx", b""),
        ["Excel", "re-save"],
        why="0 bytes named .xlsx",
    )
    c.refused(
        "xlsx-truncated",
        c.write("xlsx/truncated.xlsx", xlsx(good_table(5))[:300]),
        ["Excel", "re-save"],
        why="a workbook cut short",
    )
    c.refused(
        "xlsx-is-csv",
        c.write("xlsx/table.xlsx", GOOD_CSV),
        ["Excel", "re-save"],
        why="CSV text named .xlsx",
    )
    c.refused(
        "xlsx-header-only",
        c.write("xlsx/header_only.xlsx", xlsx([["size", "colour", "label"]])),
        ["no data rows"],
        why="a sheet with a header and no rows",
    )
    c.refused(
        "unknown-suffix",
        c.write("misc/data.xyz", GOOD_CSV),
        ["'.xyz'", "rename it"],
        why="a suffix no reader knows",
    )


def images(c: Corpus) -> None:
    c.write("images/empty_folder/README.txt", b"no pictures here\n")
    c.refused(
        "image-folder-no-images",
        "images/empty_folder",
        ["no images found", "point at a folder"],
        why="a folder without a single picture",
    )
    c.write("images/truncated_png/a.png", GOOD_PNG[: len(GOOD_PNG) // 2])
    c.refused(
        "image-truncated-png",
        "images/truncated_png",
        ["none of the 1 image files", "truncated"],
        why="a PNG cut in half",
    )
    c.write("images/zero_byte_png/a.png", b"")
    c.refused(
        "image-zero-byte",
        "images/zero_byte_png",
        ["none of the 1 image files", "empty file"],
        why="a 0-byte .png",
    )
    c.write("images/truncated_jpeg/a.jpg", jpeg_header(8, 8))
    c.refused(
        "image-truncated-jpeg",
        "images/truncated_jpeg",
        ["none of the 1 image files", "truncated"],
        why="a JPEG that stops after its frame header",
    )
    c.write("images/bomb_png/huge.png", png(100_000, 100_000, rows=b"\x00"))
    c.refused(
        "image-bomb-png",
        "images/bomb_png",
        ["none of the 1 image files", "decompression-bomb"],
        why="a PNG header claiming 100,000 x 100,000 pixels (a decompression bomb)",
    )
    c.write("images/bomb_jpeg/huge.jpg", jpeg_header(65_000, 65_000))
    c.refused(
        "image-bomb-jpeg",
        "images/bomb_jpeg",
        ["none of the 1 image files", "decompression-bomb"],
        why="a JPEG header claiming 65,000 x 65,000 pixels",
    )
    c.write("images/text_as_png/a.png", GOOD_CSV)
    c.refused(
        "image-is-csv",
        "images/text_as_png",
        ["none of the 1 image files", "not an image"],
        why="CSV text named .png",
    )
    c.write("images/link_loop/README.txt", b"the test adds a.png -> b.png -> a.png\n")
    c.refused(
        "image-symlink-loop",
        "images/link_loop",
        ["none of the 2 image files", "symbolic links"],
        links={"a.png": "b.png", "b.png": "a.png", "sub": "."},
        why="image files that are symbolic links to each other, and a folder link to itself",
    )
    c.write(
        "images/list_outside/list.csv",
        table([["path", "label"], ["../../../../etc/passwd.png", "a"], ["cat.png", "b"]]),
    )
    c.write("images/list_outside/cat.png", GOOD_PNG)
    c.refused(
        "image-list-outside",
        "images/list_outside/list.csv",
        ["do not exist", "fix the paths"],
        why="a CSV of image paths, one climbing out with ../ to a file that is not there",
    )
    c.write(
        "images/list_missing/list.csv",
        table([["path", "label"]] + [[f"img{i}.png", i % 2] for i in range(5)]),
    )
    c.refused(
        "image-list-missing",
        "images/list_missing/list.csv",
        ["5 of the 5", "fix the paths"],
        why="a CSV of image paths none of which exists",
    )
    c.refused(
        "single-image-file",
        c.write("images/single/cat.png", GOOD_PNG),
        ["'.png'", "a folder of images"],
        why="one picture given as the data set",
    )


def arrays(c: Corpus) -> None:
    pixels = (np.arange(10 * 8 * 8, dtype=np.int64) % 256).astype(np.uint8).reshape(10, 8, 8)
    c.refused("npy-zero-byte", c.write("arrays/zero_byte.npy", b""), ["npy", "save"], why="0 bytes")
    c.refused(
        "npy-truncated",
        c.write("arrays/truncated.npy", npy(pixels)[:300]),
        ["truncated", "save"],
        why="the pixels cut short",
    )
    c.refused(
        "npy-object",
        c.write("arrays/object.npy", npy_objects((3,))),
        ["Python objects", "pickle"],
        why="an object array (a pickle)",
    )
    c.refused(
        "npy-huge-shape",
        c.write("arrays/huge_shape.npy", npy_header((100_000, 100_000, 100_000), "|u1")),
        ["truncated", "save"],
        why="a header claiming 10^15 bytes over no data",
    )
    c.refused(
        "npy-is-csv",
        c.write("arrays/table.npy", GOOD_CSV),
        ["npy", "save"],
        why="CSV text named .npy",
    )
    nan_images = np.full((4, 8, 8), np.nan, dtype=np.float32)
    c.refused(
        "npy-nan-images",
        c.write("arrays/nan_images.npy", npy(nan_images)),
        ["NaN"],
        why="images whose every pixel is NaN",
    )
    c.refused("npz-zero-byte", c.write("arrays/zero_byte.npz", b""), ["npz", "save"], why="0 bytes")
    c.refused(
        "npz-truncated",
        c.write("arrays/truncated.npz", npz({"x": pixels, "label": np.arange(10) % 2})[:400]),
        ["truncated", "save"],
        why="an archive cut short",
    )
    c.refused(
        "npz-object",
        c.write(
            "arrays/object.npz",
            npz({"x": pixels[:3], "label": OBJECTS}),
        ),
        ["Python objects", "pickle"],
        why="a label array of Python objects (a pickle)",
    )
    c.refused(
        "npz-is-png",
        c.write("arrays/picture.npz", GOOD_PNG),
        ["npz", "save"],
        why="a PNG named .npz",
    )


def sequences(c: Corpus) -> None:
    c.refused("ts-zero-byte", c.write("sequences/zero_byte.ts", b""), ["@data"], why="0 bytes")
    c.refused(
        "ts-no-data",
        c.write("sequences/no_data.ts", ts_file("")),
        ["@data"],
        why="a header and no @data section",
    )
    body = "@data\n" + "".join(f"{','.join(str(i + j) for j in range(10))}:a\n" for i in range(6))
    c.refused(
        "ts-truncated",
        c.write("sequences/truncated.ts", ts_file(body + "1,2,3,")),
        ["line 12"],
        why="the last case cut off before its label",
    )
    c.refused(
        "ts-not-numbers",
        c.write("sequences/words.ts", ts_file("@data\n1,2,three,4:a\n5,6,7,8:b\n")),
        ["'three'", "not a number"],
        why="a word among the values",
    )
    c.refused(
        "ts-is-png",
        c.write("sequences/picture.ts", GOOD_PNG),
        ["encoding"],
        why="a PNG named .ts",
    )


def binary(c: Corpus) -> None:
    c.refused(
        "interactions-missing-user",
        c.write(
            "binary/missing_user.csv",
            table([["user", "item", "rating"], [1, "a", 5], ["", "b", 4], [2, "a", 3]]),
        ),
        ["user", "row 2"],
        why="an interaction without its user",
    )
    c.refused(
        "interactions-bad-rating",
        c.write(
            "binary/bad_rating.csv",
            table([["user", "item", "rating"], [1, "a", 5], [1, "b", "great"], [2, "a", 3]]),
        ),
        ["row 2 of column 'rating'", "'great'", "fix or remove"],
        why="a rating that is a word",
    )
    sparse = {
        "indices": np.array([0, 2, 1], dtype=np.int32),
        "indptr": np.array([0, 2, 3], dtype=np.int32),
        "format": np.array(b"csr"),
        "shape": np.array([2, 3], dtype=np.int64),
        "data": np.array([1.0, 1.0, 1.0], dtype=np.float32),
    }
    c.refused(
        "sparse-npz-object",
        c.write(
            "binary/object_sparse.npz",
            npz({**sparse, "rows": OBJECTS}),
        ),
        ["Python objects", "pickle"],
        why="a sparse matrix saved with an object array beside it",
    )
    c.refused(
        "sparse-npz-truncated",
        c.write("binary/truncated_sparse.npz", npz(sparse)[:500]),
        ["truncated", "save"],
        why="a sparse matrix archive cut short",
    )
    c.refused(
        "sparse-npz-bad-index",
        c.write(
            "binary/bad_index.npz",
            npz({**sparse, "indices": np.array([0, 7, 1], dtype=np.int32)}),
        ),
        ["indices must be < 3", "save_npz"],
        why="a column index past the matrix's shape",
    )
    c.refused(
        "sparse-npz-not-binary",
        c.write(
            "binary/counts.npz",
            npz({**sparse, "data": np.array([1.0, 5.0, 1.0], dtype=np.float32)}),
        ),
        ["holds 5", "binarise it"],
        why="a stored value of 5 in a matrix that must be 0/1",
    )


def masks(c: Corpus) -> None:
    for i in range(4):
        c.write(f"masks/images/img{i}.png", png(8, 8))
    c.write("masks/images/.keep", b"")
    c.write("masks/truncated/img0.png", GOOD_PNG[:40])
    c.refused(
        "masks-truncated",
        "masks/images",
        ["img0.png", "replace or remove"],
        command=TRAIN + ["--task", "inpainting", "--masks", "{dir}/masks/truncated"],
        inputs=["masks/truncated"],
        why="a truncated mask for inpainting",
    )
    c.write("masks/unmatched/zebra.png", png(8, 8))
    c.refused(
        "masks-unmatched",
        "masks/images",
        ["zebra.png", "name each file like its image"],
        command=TRAIN + ["--task", "inpainting", "--masks", "{dir}/masks/unmatched"],
        inputs=["masks/unmatched"],
        why="a mask that belongs to no image",
    )


def predictions(c: Corpus) -> None:
    """What ``predict`` reads itself: single image files given to an image model."""
    c.refused(
        "predict-truncated-png",
        c.write("predict/truncated.png", GOOD_PNG[: len(GOOD_PNG) - 20]),
        ["none of the 1 images", "truncated", "complete pictures"],
        command=PREDICT,
        why="one PNG cut short, given to an image model",
    )
    c.refused(
        "predict-zero-byte-jpeg",
        c.write("predict/zero_byte.jpg", b""),
        ["none of the 1 images", "empty file"],
        command=PREDICT,
        why="one 0-byte JPEG",
    )
    c.refused(
        "predict-bomb-png",
        c.write("predict/huge.png", png(100_000, 100_000, rows=b"\x00")),
        ["none of the 1 images", "decompression-bomb"],
        command=PREDICT,
        why="one PNG whose header claims 100,000 x 100,000 pixels",
    )
    c.refused(
        "predict-csv-as-png",
        c.write("predict/table.png", GOOD_CSV),
        ["none of the 1 images", "not an image"],
        command=PREDICT,
        why="CSV text named .png",
    )
    c.refused(
        "predict-object-npy",
        c.write("predict/object.npy", npy_objects((2, 2))),
        ["Python objects", "pickle"],
        command=PREDICT,
        why="an object array (a pickle) to predict on",
    )


def hostile_but_valid(c: Corpus) -> None:
    formulas = [
        ["name", "note", "amount", "label"],
        ["alice", "=cmd|' /C calc'!A0", 10, "yes"],
        ["bob", "+1+1", 11, "no"],
        ["carol", "@SUM(A1:A9)", 12, "yes"],
        ["dave", '=HYPERLINK("http://example.invalid";"x")', 13, "no"],
    ] + [[f"p{i}", "plain", 14 + i, ("yes", "no")[i % 2]] for i in range(12)]
    c.valid(
        "csv-formula-cells",
        c.write("valid/formula_cells.csv", table(formulas)),
        escaped=[],
        why="cells that a spreadsheet would run as formulas: data, not an error",
    )
    markup = [["<b>markup</b>", "<script>alert(1)</script>", "**bold** | pipe", "label"]]
    markup += [[f"row{i}", 7, ("x", "y")[i % 2], i % 2] for i in range(20)]
    c.valid(
        "csv-markup-names",
        c.write("valid/markup_names.csv", table(markup)),
        escaped=["<b>markup</b>", "<script>alert(1)</script>"],
        why="column names with HTML: shown escaped, never as markup",
    )
    control = [["id\x1b[31mred", "bell\x07name", "del\x7fname", "x\x1b]0;title\x07", "label"]]
    control += [[f"row{i}", 7, i * 4, i % 3, i % 2] for i in range(20)]
    c.valid(
        "csv-control-names",
        c.write("valid/control_names.csv", table(control)),
        escaped=["\x1b", "\x07", "\x7f"],
        why="column names with terminal escapes and control characters: shown as \\x1b",
    )
    lines = "".join(
        json.dumps({"<img src=x onerror=alert(1)>": i, "na\u001bme": i % 3, "label": i % 2}) + "\n"
        for i in range(20)
    )
    c.valid(
        "jsonl-markup-keys",
        c.write("valid/markup_keys.jsonl", lines.encode()),
        escaped=["<img src=x onerror=alert(1)>", "\x1b"],
        why="JSON keys with HTML and an escape character",
    )
    wide = [
        [f"c{i}" for i in range(10_000)],
        [i % 7 for i in range(10_000)],
        [i % 5 for i in range(10_000)],
    ]
    c.valid(
        "csv-10000-columns",
        c.write("valid/wide.csv", table(wide)),
        escaped=[],
        why="10,000 columns and two rows: profiled, not refused",
    )
    c.valid(
        "csv-one-row-profile",
        c.write("valid/one_row.csv", table([["size", "colour", "price"], [1.5, "red", 10]])),
        escaped=[],
        why="a 1-row table can be profiled (training it is refused)",
    )


def make(out: Path = DEFAULT_OUT) -> list[dict]:
    """Write the corpus into ``out`` (emptied first) and return its cases."""
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    corpus = Corpus(out)
    for part in (tables, images, arrays, sequences, binary, masks, predictions, hostile_but_valid):
        part(corpus)
    names = [case["name"] for case in corpus.cases]
    assert len(names) == len(set(names)), "case names must be unique"
    manifest = {
        "about": "Made by scripts/make_bad_inputs.py - do not edit; run it again instead.",
        "cases": corpus.cases,
    }
    (out / "cases.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=True) + "\n")
    return corpus.cases


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT
    cases = make(target)
    refused = sum(case["group"] == "refused" for case in cases)
    print(f"{len(cases)} cases ({refused} refused, {len(cases) - refused} valid) in {target}")
