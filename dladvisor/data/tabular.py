"""Readers of tabular files: delimited text, Parquet, JSON Lines and Excel workbooks.

Importing this module registers four readers (``csv``, ``parquet``, ``jsonl``, ``excel``)
with :mod:`dladvisor.data.registry`. Each returns a :class:`TabularDataset` whose
``notes`` say in plain words how the file was read.

Delimited text is sniffed from its first 64 KiB (after decompression): the encoding, the
delimiter, the header row and whether spaces follow the delimiters. It is then parsed by
pyarrow's *streaming* CSV reader, which holds the parsed table and one block of text at a
time rather than the whole file twice (about half the peak memory of ``read_csv``). The
streaming reader infers column types from its first block only, so a column whose later
rows do not fit is re-read with a wider type (integer -> float -> text).

Every problem a user can cause is a one-line :class:`~dladvisor.errors.DataError` that
names the file and says how to fix it.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import io
import json
import lzma
import re
import zipfile
import zlib
from collections import Counter
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Iterator

import pyarrow as pa
import pyarrow.compute as pc

from dladvisor.data.dataset import TabularDataset
from dladvisor.data.registry import Reader, ReadOptions, format_suffix, register_reader
from dladvisor.errors import ConfigError, DataError

__all__ = [
    "DELIMITERS",
    "MISSING_MARKERS",
    "read_csv",
    "read_excel",
    "read_jsonl",
    "read_parquet",
]

#: Cell values read as missing (null) in delimited text and Excel sheets. "?" is how UCI
#: data sets mark missing values; a lone "-" is left alone because it is also a real
#: category or sign in many files.
MISSING_MARKERS = (
    "",
    "NA",
    "N/A",
    "n/a",
    "NaN",
    "nan",
    "-NaN",
    "-nan",
    "NULL",
    "null",
    "Null",
    "None",
    "none",
    "#N/A",
    "#NA",
    "?",
)

#: Delimiters the sniffer chooses among, in order of preference when they tie.
DELIMITERS = (",", ";", "\t", "|")

#: How much of a file (decompressed) the sniffers look at.
SNIFF_BYTES = 64 * 1024

#: pyarrow's default block size; the streaming reader infers types from the first block.
_BLOCK_SIZE = 1 << 20

#: Re-reads allowed for columns whose later blocks do not fit the inferred type; each is a
#: full pass over the file, so past this the whole-file (higher-memory) reader decides.
_MAX_TYPE_RETRIES = 20

_DELIMITER_NAMES = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}
_DELIMITER_ALIASES = {
    "\\t": "\t",
    "tab": "\t",
    "TAB": "\t",
    "comma": ",",
    "semicolon": ";",
    "pipe": "|",
}
_NUMBER = re.compile(r"^\s*[-+]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?%?\s*$")
_CONVERSION_ERROR = re.compile(
    r"In CSV column #(\d+): (?:Row #\d+: )?CSV conversion error to ([^:]+?): "
    r"invalid value '(.*)'",
    re.DOTALL,
)
_RAGGED_ERROR = re.compile(r"Expected (\d+) columns, got (\d+)")

# Characters cp1252 decodes to that are common in Western-European text. If every
# non-ASCII character of a sample is one of these, cp1252 is a better guess than the
# Baltic or Central-European code pages charset_normalizer tends to pick for short samples.
_WESTERN = set(
    "ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖØÙÚÛÜÝÞßàáâãäåæçèéêëìíîïðñòóôõöøùúûüýþÿ"
    "ŒœŠšŸŽž€‚„…†‡‰‹›‘’“”•–—˜™°£¥©®±µ¿¡«»§¶·²³¹¼½¾¢¤¦¨ª¬¯´¸º\u00a0"
)
_MAGIC = {
    b"\x1f\x8b": "gzip",
    b"\xfd7zXZ\x00": "xz",
    b"PK\x03\x04": "zip",
}


def _one_line(text: str, limit: int = 200) -> str:
    """``text`` squeezed onto one line and cut to ``limit`` characters, for messages."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------------------
# Opening files, looking through compression


def _content_compression(path: Path) -> str | None:
    """Compression recognised from the first bytes, for files whose suffix hides it."""
    with open(path, "rb") as handle:
        head = handle.read(10)
    for magic, name in _MAGIC.items():
        if head.startswith(magic):
            return name
    # "BZh" alone could start a text file; the level digit and block magic make it bz2.
    if head[:3] == b"BZh" and head[3:4].isdigit() and head[4:10] == b"1AY&SY":
        return "bz2"
    return None


def _leaves_archive(name: str) -> bool:
    """Whether a zip member's path is absolute or climbs out with ``..`` (zip slip)."""
    parts = name.replace("\\", "/").split("/")
    return name.startswith(("/", "\\")) or bool(re.match(r"[A-Za-z]:", name)) or ".." in parts


def _zip_member(path: Path, archive: zipfile.ZipFile) -> str:
    """The one data member of a zip archive, or an error naming what is inside."""
    names = [
        info.filename
        for info in archive.infolist()
        if not info.is_dir() and not info.filename.startswith("__MACOSX/")
    ]
    if "[Content_Types].xml" in names:
        raise DataError(
            f"{path}: looks like an Excel workbook, not delimited text; rename it to end "
            f"in .xlsx, or export the sheet to CSV"
        )
    outside = [name for name in names if _leaves_archive(name)]
    if outside:
        # Nothing is unpacked, but a member named ../x or /x is how a hostile archive
        # (zip slip) writes outside the folder it is extracted into: refuse it outright.
        raise DataError(
            f"{path}: the zip archive holds a file whose path leads outside it "
            f"({outside[0]!r}); do not unzip it - it may be hostile; re-create the "
            f"archive from the data file alone"
        )
    if len(names) != 1:
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        raise DataError(
            f"{path}: a zip archive must hold exactly one data file, found {len(names)}"
            f"{' (' + shown + ')' if names else ''}; unzip it and point at one file"
        )
    return names[0]


@contextmanager
def _open_binary(
    path: Path, compression: str | None, *, native: bool = False
) -> Iterator[IO[bytes]]:
    """``path`` opened for reading bytes, decompressed on the fly (nothing is unpacked).

    ``native`` asks for an Arrow stream where one serves (uncompressed files), for
    pyarrow's parsers; otherwise a Python file object.
    """
    with ExitStack() as stack:
        if compression == "gzip":
            handle: IO[bytes] = stack.enter_context(gzip.open(path, "rb"))
        elif compression == "bz2":
            handle = stack.enter_context(bz2.open(path, "rb"))
        elif compression == "xz":
            handle = stack.enter_context(lzma.open(path, "rb"))
        elif compression == "zip":
            try:
                archive = stack.enter_context(zipfile.ZipFile(path))
            except zipfile.BadZipFile as exc:
                raise DataError(
                    f"{path}: not a readable zip archive ({exc}); re-create or "
                    f"re-download it"
                ) from exc
            handle = stack.enter_context(archive.open(_zip_member(path, archive)))
        elif compression is None and native:
            # Arrow's own file reader: pyarrow's CSV parser reads it without going
            # through Python, which is measurably faster than a Python file object.
            handle = stack.enter_context(pa.input_stream(str(path)))
        elif compression is None:
            handle = stack.enter_context(open(path, "rb"))
        else:  # the registry's table of compressions grew without this module
            raise DataError(
                f"{path}: {compression} compression is not supported here; decompress "
                f"the file first"
            )
        yield handle


def _decompression_failed(path: Path, compression: str | None, exc: BaseException) -> DataError:
    """The error for a file that stopped reading part-way (damaged archive or I/O)."""
    if compression is None or isinstance(exc, PermissionError):
        return DataError(
            f"{path}: cannot be read ({_one_line(exc)}); check the file and its "
            f"permissions"
        )
    return DataError(
        f"{path}: the {compression} data is corrupt or truncated "
        f"({_one_line(exc)}); re-create or re-download the file"
    )


# Errors the decompressors raise for damaged input.
_DECOMPRESSION_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError, zipfile.BadZipFile)


def _compression_of(path: Path) -> tuple[str | None, bool]:
    """``(compression, from_content)``: from the suffix, else from the first bytes."""
    _, compression = format_suffix(path)
    if compression is not None:
        return compression, False
    detected = _content_compression(path)
    return detected, detected is not None


def _head(path: Path, compression: str | None) -> tuple[bytes, bool]:
    """The first :data:`SNIFF_BYTES` bytes (decompressed) and whether that is all."""
    try:
        with _open_binary(path, compression) as handle:
            data = handle.read(SNIFF_BYTES + 1)
    except DataError:
        raise
    except _DECOMPRESSION_ERRORS as exc:
        raise _decompression_failed(path, compression, exc) from exc
    return data[:SNIFF_BYTES], len(data) <= SNIFF_BYTES


# --------------------------------------------------------------------------------------
# Sniffing delimited text


@dataclass(frozen=True)
class _Sniffed:
    """What the sniffers decided about a delimited file, with notes on how."""

    encoding: str
    delimiter: str
    header: bool
    column_count: int
    skip_initial_space: bool
    newlines_in_values: bool
    notes: tuple[str, ...]


def _normalise_encoding(path: Path, name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise ConfigError(
            f"{path}: unknown encoding {name!r}; use a Python codec name such as "
            f"utf-8, cp1252 or latin-1"
        ) from None


def _looks_western(sample: bytes) -> bool:
    """Whether ``sample`` reads as Western-European text in cp1252.

    Cyrillic or Greek single-byte text also decodes to accented Latin letters in cp1252,
    but then its words hold no ASCII letters; requiring that most words with accents also
    have plain letters keeps those out.
    """
    try:
        text = sample.decode("cp1252")
    except UnicodeDecodeError:
        return False
    if any(ord(ch) > 127 and ch not in _WESTERN for ch in text):
        return False
    words = [w for w in re.findall(r"[^\W\d_]+", text) if any(ord(ch) > 127 for ch in w)]
    if not words:
        return True
    mixed = sum(1 for w in words if any(ch.isascii() for ch in w))
    return mixed >= len(words) / 2


def _sniff_encoding(path: Path, sample: bytes, complete: bool) -> tuple[str, str | None]:
    """``(codec, note)`` for a delimited file's text, from its first bytes."""
    if sample.startswith(codecs.BOM_UTF8):
        # pyarrow skips a UTF-8 byte-order mark itself.
        return "utf-8", "encoding UTF-8 with byte-order mark"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", "encoding UTF-16 (byte-order mark)"
    if b"\x00" in sample:
        raise DataError(
            f"{path}: does not look like delimited text (it holds NUL bytes, as binary "
            f"files do); check that this is the right file, or convert it to CSV"
        )
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=complete)
        return "utf-8", None
    except UnicodeDecodeError:
        pass
    if _looks_western(sample):
        return "cp1252", "encoding cp1252 (sniffed; not UTF-8)"
    import charset_normalizer

    best = charset_normalizer.from_bytes(sample).best()
    # Above this mess ratio charset_normalizer is guessing; a wrong guess would silently
    # garble every text value, so the user is asked instead.
    if best is None or best.chaos > 0.2:
        raise DataError(
            f"{path}: is not UTF-8 and its encoding could not be determined; re-save it "
            f"as UTF-8, or pass --encoding NAME (e.g. cp1252, latin-1, shift_jis)"
        )
    return best.encoding, f"encoding {best.encoding} (sniffed; not UTF-8)"


def _rows(text: str, delimiter: str, limit: int) -> list[list[str]]:
    """Up to ``limit`` non-blank records of ``text`` split on ``delimiter``."""
    rows: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            if row and any(field.strip() for field in row):
                rows.append(row)
                if len(rows) >= limit:
                    break
    except csv.Error:  # an unbalanced quote in the sample
        return rows
    return rows


def _consistency(rows: list[list[str]]) -> tuple[float, int]:
    """``(share of rows with the commonest field count, that count)``."""
    if not rows:
        return 0.0, 0
    count, times = Counter(len(row) for row in rows).most_common(1)[0]
    return times / len(rows), count


def _sniff_delimiter(text: str, suffix: str) -> tuple[str, str]:
    """``(delimiter, note)`` for the sample ``text``."""
    if suffix in (".tsv", ".tab"):
        return "\t", f"delimiter tab (from the {suffix} suffix)"
    if suffix == ".psv":
        return "|", "delimiter '|' (from the .psv suffix)"
    scores = {d: _consistency(_rows(text, d, 200)) for d in DELIMITERS}
    viable = {d: s for d, s in scores.items() if s[1] > 1}
    if not viable:
        return ",", "one column (no delimiter found)"
    try:
        sniffed = csv.Sniffer().sniff(text[:SNIFF_BYTES], delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        sniffed = None
    # csv.Sniffer's guess is kept when the field counts agree with it; otherwise the most
    # consistent delimiter wins (ties go to the more common delimiter).
    if sniffed in viable and viable[sniffed][0] >= 0.9:
        chosen = sniffed
    else:
        chosen = max(viable, key=lambda d: (viable[d][0], -DELIMITERS.index(d)))
    return chosen, f"delimiter {_DELIMITER_NAMES[chosen]} (sniffed)"


def _is_number(field: str) -> bool:
    return bool(_NUMBER.match(field))


def _sniff_header(rows: list[list[str]]) -> bool:
    """Whether the first of ``rows`` names the columns.

    A header is a first row of text only. It is taken as one when a later row has a
    number under one of its names, or - for all-text data - when none of its values
    recurs in its column (category values recur; column names do not). csv.Sniffer's
    ``has_header`` is not used: it votes "no header" for text columns of varied length.
    """
    first, rest = rows[0], rows[1:]
    if any(_is_number(field) for field in first if field.strip()):
        return False
    if not rest:
        return True
    for j, name in enumerate(first):
        if name.strip() and any(j < len(row) and _is_number(row[j]) for row in rest):
            return True
    for j, name in enumerate(first):
        if name.strip() and any(j < len(row) and row[j] == name for row in rest):
            return False
    return True


def _sniff(path: Path, options: ReadOptions, sample: bytes, complete: bool) -> _Sniffed:
    """Sniff encoding, delimiter and header from ``sample``, the head of ``path``.

    ``complete`` says whether the sample is the whole (decompressed) file.
    """
    if not sample.strip():
        raise DataError(
            f"{path}: the file is empty (no rows); check that it was saved or downloaded "
            f"completely"
        )
    notes: list[str] = []
    if options.encoding:
        encoding = _normalise_encoding(path, options.encoding)
        notes.append(f"encoding {encoding} (given)")
    else:
        encoding, note = _sniff_encoding(path, sample, complete)
        if note:
            notes.append(note)
    text = sample.decode(encoding, errors="replace").lstrip("\ufeff")
    if not complete and "\n" in text:  # the last line may be cut off mid-record
        text = text[: text.rindex("\n") + 1]

    suffix, _ = format_suffix(path)
    if options.delimiter:
        delimiter = _DELIMITER_ALIASES.get(options.delimiter, options.delimiter)
        if len(delimiter) != 1:
            raise ConfigError(
                f"{path}: the delimiter must be one character, got {options.delimiter!r}; "
                f"pass e.g. --delimiter ';' or --delimiter tab"
            )
        notes.append(f"delimiter {_DELIMITER_NAMES.get(delimiter, repr(delimiter))} (given)")
    else:
        delimiter, note = _sniff_delimiter(text, suffix)
        notes.append(note)

    rows = _rows(text, delimiter, 200)
    if not rows:
        raise DataError(
            f"{path}: the file is empty (no rows); check that it was saved or downloaded "
            f"completely"
        )
    column_count = len(rows[0])
    header = _sniff_header(rows)
    if not header:
        notes.append(
            f"header row sniffed: absent, columns named column_1..column_{column_count}"
        )
    later = [field for row in rows for field in row[1:] if field]
    skip_initial_space = bool(later) and (
        sum(field.startswith(" ") for field in later) >= 0.8 * len(later)
    )
    if skip_initial_space:
        notes.append("spaces after each delimiter removed from text values")
    if header:
        # Before parsing: Arrow's dataset scanner refuses duplicate names with a vaguer
        # message of its own.
        _check_column_names(path, _clean_names(rows[0], skip_initial_space)[0])
    newlines_in_values = any("\n" in field or "\r" in field for row in rows for field in row)
    return _Sniffed(
        encoding=encoding,
        delimiter=delimiter,
        header=header,
        column_count=column_count,
        skip_initial_space=skip_initial_space,
        newlines_in_values=newlines_in_values,
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------------------
# Parsing delimited text


def _widened_type(current: str, value: str) -> pa.DataType:
    """The type to force on a column whose later ``value`` did not fit ``current``."""
    try:
        float(value)
        numeric = True
    except ValueError:
        numeric = False
    if current == "null" and numeric and re.fullmatch(r"\s*[-+]?\d+\s*", value):
        return pa.int64()
    if current in ("null", "int64") and numeric:
        return pa.float64()
    return pa.string()


def _first_ragged_line(
    path: Path, compression: str | None, sniffed: _Sniffed, expected: int
) -> tuple[int, int] | None:
    """``(line number, field count)`` of the first record without ``expected`` fields.

    pyarrow reports the mismatch but not where it is; this pass runs only after that
    error, streams the file and stops at the first bad record.
    """
    with _open_binary(path, compression) as raw:
        text = io.TextIOWrapper(raw, encoding=sniffed.encoding, errors="replace", newline="")
        reader = csv.reader(text, delimiter=sniffed.delimiter)
        try:
            for row in reader:
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue  # pyarrow skips blank lines too
                if len(row) != expected:
                    return reader.line_num, len(row)
        except csv.Error:
            return reader.line_num, -1
    return None


def _ragged_error(
    path: Path, compression: str | None, sniffed: _Sniffed, exc: Exception
) -> DataError:
    match = _RAGGED_ERROR.search(str(exc))
    expected, found = (int(match.group(1)), int(match.group(2))) if match else (None, None)
    where = ""
    if expected is not None:
        located = _first_ragged_line(path, compression, sniffed, expected)
        if located is not None:
            line, count = located
            found = count if count >= 0 else found
            where = f"line {line} "
    name = _DELIMITER_NAMES.get(sniffed.delimiter, repr(sniffed.delimiter))
    source = "the header" if sniffed.header else "the first line"
    counts = (
        f"has {found} field{'s' if found != 1 else ''} but {source} has {expected}"
        if expected is not None
        else f"has a different number of fields than {source}"
    )
    return DataError(
        f"{path}: {where or 'a row '}{counts} (delimiter {name}); fix that row (a missing "
        f"or extra delimiter, or an unquoted delimiter inside a value), or pass "
        f"--delimiter if {name} is the wrong separator"
    )


def _check_column_names(path: Path, names: list[str]) -> None:
    duplicates = sorted(name for name, times in Counter(names).items() if times > 1)
    if duplicates:
        shown = ", ".join(repr(name) for name in duplicates)
        raise DataError(
            f"{path}: duplicate column names {shown} in the header; rename the columns "
            f"so each name is used once"
        )


def _clean_names(names: list[str], strip: bool) -> tuple[list[str], list[str]]:
    """Column names with surrounding spaces removed (when ``strip``) and blanks named."""
    cleaned, blank = [], []
    for index, name in enumerate(names, start=1):
        name = name.strip() if strip else name
        if not name.strip():
            name = f"column_{index}"
            blank.append(name)
        cleaned.append(name)
    return cleaned, blank


def _strip_text_columns(table: pa.Table) -> pa.Table:
    """Text columns with leading spaces removed and missing markers made null.

    Files written with ", " between values (UCI's adult data) carry a space into every
    text value; pyarrow has no option to skip it, and " ?" would not match "?".
    """
    markers = pa.array(MISSING_MARKERS, pa.string())
    columns = []
    for column in table.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            trimmed = pc.utf8_ltrim_whitespace(column)
            column = pc.if_else(pc.is_in(trimmed, value_set=markers), None, trimmed)
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def _csv_options(sniffed: _Sniffed, column_types: dict[str, pa.DataType], block_size: int):
    """pyarrow's ``(ReadOptions, ParseOptions, ConvertOptions)`` for a sniffed file."""
    import pyarrow.csv as pcsv

    read_options = pcsv.ReadOptions(
        block_size=block_size,
        encoding=sniffed.encoding,
        column_names=(
            None
            if sniffed.header
            else [f"column_{i}" for i in range(1, sniffed.column_count + 1)]
        ),
    )
    parse_options = pcsv.ParseOptions(
        delimiter=sniffed.delimiter, newlines_in_values=sniffed.newlines_in_values
    )
    convert_options = pcsv.ConvertOptions(
        null_values=list(MISSING_MARKERS),
        strings_can_be_null=True,
        column_types=column_types,
    )
    return read_options, parse_options, convert_options


def _parse_csv(
    path: Path,
    compression: str | None,
    sniffed: _Sniffed,
    block_size: int,
) -> tuple[pa.Table, list[str]]:
    """Parse ``path`` with a streaming pyarrow reader; ``(table, notes)``.

    A column whose later rows do not fit the type inferred from the first block is
    re-read with a wider type; after :data:`_MAX_TYPE_RETRIES` such re-reads the
    whole-file reader decides the types instead.
    """
    import pyarrow.csv as pcsv
    import pyarrow.dataset as pds

    forced: dict[str, pa.DataType] = {}
    widened: list[str] = []
    for attempt in range(_MAX_TYPE_RETRIES + 1):
        read_options, parse_options, convert_options = _csv_options(sniffed, forced, block_size)
        names: list[str] = []
        try:
            with ExitStack() as stack:
                if compression is None and codecs.lookup(sniffed.encoding).name == "utf-8":
                    # A plain UTF-8 file: Arrow's dataset scanner parses blocks on every
                    # core and still streams (measured on 160 MB: faster than read_csv,
                    # at the streaming reader's memory).
                    scan = pds.dataset(
                        str(path),
                        format=pds.CsvFileFormat(
                            read_options=read_options,
                            parse_options=parse_options,
                            convert_options=convert_options,
                        ),
                    )
                    read_all = scan.scanner(batch_readahead=4, fragment_readahead=1).to_table
                else:
                    handle = stack.enter_context(_open_binary(path, compression, native=True))
                    scan = pcsv.open_csv(
                        handle,
                        read_options=read_options,
                        parse_options=parse_options,
                        convert_options=convert_options,
                    )
                    read_all = scan.read_all
                names = list(scan.schema.names)
                table = read_all()
            notes = []
            if widened:
                notes.append(
                    "re-read with wider types because later rows did not fit the first "
                    "block: " + ", ".join(widened)
                )
            return table, notes
        except pa.ArrowInvalid as exc:
            message = str(exc)
            conversion = _CONVERSION_ERROR.search(message)
            if conversion and "invalid UTF8" not in message and names:
                if attempt == _MAX_TYPE_RETRIES:
                    break
                column = names[int(conversion.group(1))]
                new_type = _widened_type(conversion.group(2), conversion.group(3))
                forced[column] = new_type
                widened.append(f"{column} ({conversion.group(2)} -> {new_type})")
                continue
            if _RAGGED_ERROR.search(message) and not sniffed.newlines_in_values:
                # A quoted value spanning lines past the sniffed head looks like a short
                # row to the fast parser; the quote-aware one settles it.
                sniffed = replace(sniffed, newlines_in_values=True)
                continue
            raise _explain_csv_error(path, compression, sniffed, exc) from exc
        except UnicodeError as exc:
            raise _encoding_error(path, sniffed) from exc
        except DataError:
            raise
        except _DECOMPRESSION_ERRORS as exc:
            raise _decompression_failed(path, compression, exc) from exc
    note = (
        f"types inferred over the whole file (more memory) after {len(widened)} columns "
        f"did not fit the types of the first block"
    )
    return _parse_csv_whole(path, compression, sniffed), [note]


def _parse_csv_whole(path: Path, compression: str | None, sniffed: _Sniffed) -> pa.Table:
    """Parse with ``read_csv``, which unifies types over all blocks at more memory cost.

    Used only when too many columns changed type after the first block for re-reading
    column by column to be worth it.
    """
    import pyarrow.csv as pcsv

    read_options, parse_options, convert_options = _csv_options(sniffed, {}, _BLOCK_SIZE)
    try:
        with _open_binary(path, compression) as handle:
            return pcsv.read_csv(
                handle,
                read_options=read_options,
                parse_options=parse_options,
                convert_options=convert_options,
            )
    except pa.ArrowInvalid as exc:
        raise _explain_csv_error(path, compression, sniffed, exc) from exc
    except UnicodeError as exc:
        raise _encoding_error(path, sniffed) from exc
    except _DECOMPRESSION_ERRORS as exc:
        raise _decompression_failed(path, compression, exc) from exc


def _encoding_error(path: Path, sniffed: _Sniffed, column: str | None = None) -> DataError:
    where = f"column {column!r} holds text that" if column else "text further into the file"
    return DataError(
        f"{path}: {where} is not valid {sniffed.encoding} (sniffed "
        f"from the first {SNIFF_BYTES // 1024} KiB); re-save the file as UTF-8, or pass "
        f"--encoding NAME (e.g. cp1252 or latin-1)"
    )


def _explain_csv_error(
    path: Path, compression: str | None, sniffed: _Sniffed, exc: pa.ArrowInvalid
) -> DataError:
    message = str(exc)
    if _RAGGED_ERROR.search(message):
        return _ragged_error(path, compression, sniffed, exc)
    if "invalid UTF8" in message or "UTF8" in message:
        return _encoding_error(path, sniffed)
    return DataError(
        f"{path}: cannot be parsed as delimited text ({_one_line(message)}); check the "
        f"file, or pass --delimiter/--encoding if the sniffed ones are wrong"
    )


def _read_csv(
    path: Path, options: ReadOptions, *, block_size: int = _BLOCK_SIZE
) -> TabularDataset:
    """Read a delimited text file; ``block_size`` (bytes per parsed block) is for tests."""
    path = Path(path)
    compression, from_content = _compression_of(path)
    sample, complete = _head(path, compression)
    if compression is None and sample.startswith(b"PAR1"):
        raise DataError(
            f"{path}: looks like a Parquet file, not delimited text; rename it to end in "
            f".parquet"
        )
    sniffed = _sniff(path, options, sample, complete)
    notes: list[str] = []
    if compression is not None:
        how = " (detected from the content)" if from_content else ""
        notes.append(f"{compression}-compressed{how}")
    notes.extend(sniffed.notes)

    table, parse_notes = _parse_csv(path, compression, sniffed, block_size)
    notes.extend(parse_notes)
    if sniffed.header:
        names, blank = _clean_names(table.column_names, sniffed.skip_initial_space)
        if blank:
            notes.append(f"blank column names replaced: {', '.join(blank)}")
        table = table.rename_columns(names)
    for name, column in zip(table.column_names, table.columns):
        # pyarrow falls back to bytes for a column whose text does not decode.
        if pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):
            raise _encoding_error(path, sniffed, name)
    if sniffed.skip_initial_space:
        table = _strip_text_columns(table)
    if table.num_rows == 0:
        raise DataError(
            f"{path}: has a header row but no data rows; add data below the header, or "
            f"check that the file was saved completely"
        )
    _check_finite(path, table)
    return TabularDataset(path=path, format="csv", notes=tuple(notes), table=table)


def read_csv(path: Path, options: ReadOptions) -> TabularDataset:
    """Read delimited text (csv/tsv/...; optionally gzip/bz2/xz/zip-compressed).

    Encoding, delimiter and header row are sniffed from the first 64 KiB unless
    ``options`` forces the encoding or delimiter. Raises :class:`DataError` for empty,
    header-only, binary or ragged files, duplicate column names and infinite values.
    """
    return _read_csv(path, options)


# --------------------------------------------------------------------------------------
# Checks shared by every tabular reader


def _check_finite(path: Path, table: pa.Table) -> None:
    """Reject float columns holding infinities: models cannot learn from them."""
    for name, column in zip(table.column_names, table.columns):
        if not pa.types.is_floating(column.type):
            continue
        infinite = pc.is_inf(column)
        count = pc.sum(infinite).as_py() or 0
        if count:
            first = pc.index(infinite, True).as_py() + 1
            raise DataError(
                f"{path}: column {name!r} holds {count} infinite value(s), the first in "
                f"data row {first}; replace them with blanks (missing) or finite numbers"
            )


def _flatten(path: Path, table: pa.Table) -> tuple[pa.Table, list[str]]:
    """Nested records become ``parent.child`` columns; lists and maps are refused."""
    notes = []
    if any(pa.types.is_struct(field.type) for field in table.schema):
        while any(pa.types.is_struct(field.type) for field in table.schema):
            table = table.flatten()
        notes.append("nested records flattened into columns named parent.child")
    for field in table.schema:
        if pa.types.is_nested(field.type):
            raise DataError(
                f"{path}: column {field.name!r} holds lists ({field.type}), but each cell "
                f"must hold one value; expand it into one column per element, or drop it"
            )
    return table, notes


def _check_rows(path: Path, table: pa.Table, what: str) -> None:
    if table.num_columns == 0 or table.num_rows == 0:
        raise DataError(
            f"{path}: the {what} holds no data rows; check that the file was saved or "
            f"exported completely"
        )


def _refuse_compression(path: Path, kind: str) -> None:
    _, compression = format_suffix(path)
    if compression is not None:
        raise DataError(
            f"{path}: {compression}-compressed {kind} files cannot be read directly; "
            f"decompress the file first"
        )


# --------------------------------------------------------------------------------------
# Parquet, JSON Lines, Excel


def read_parquet(path: Path, options: ReadOptions) -> TabularDataset:
    """Read a Parquet file (``options`` is accepted for the registry and not used)."""
    import pyarrow.parquet as pq

    path = Path(path)
    _refuse_compression(path, "Parquet")
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise DataError(
            f"{path}: not a readable Parquet file ({_one_line(exc)}); re-export it, or "
            f"check that the file was copied completely"
        ) from exc
    table, notes = _flatten(path, table)
    _check_rows(path, table, "Parquet file")
    _check_finite(path, table)
    return TabularDataset(path=path, format="parquet", notes=tuple(notes), table=table)


def _first_bad_json_line(path: Path, compression: str | None) -> tuple[int, str] | None:
    """``(line number, problem)`` of the first line that is not one JSON object.

    pyarrow's row numbers count within a block, so this error-path-only pass finds the
    real line, streaming and stopping at the first bad one.
    """
    with _open_binary(path, compression) as raw:
        for number, line in enumerate(raw, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except ValueError as exc:
                return number, f"invalid JSON: {_one_line(exc, 80)}"
            if not isinstance(value, dict):
                return number, f"a JSON {type(value).__name__}, not an object"
    return None


def _first_type_change(
    path: Path, compression: str | None, column: str
) -> tuple[int, str, str] | None:
    """``(line, first kind, other kind)`` where field ``column`` first changes JSON type."""

    def kind(value: object) -> str:
        if isinstance(value, bool):
            return "boolean"
        if isinstance(value, (int, float)):
            return "number"
        return {str: "string", dict: "object", list: "array"}.get(type(value), "value")

    keys = column.split("/")
    seen = None
    with _open_binary(path, compression) as raw:
        for number, line in enumerate(raw, start=1):
            try:
                value = json.loads(line) if line.strip() else None
                for key in keys:
                    value = value.get(key) if isinstance(value, dict) else None
            except ValueError:
                continue
            if value is None:
                continue
            if seen is None:
                seen = kind(value)
            elif kind(value) != seen:
                return number, seen, kind(value)
    return None


def _jsonl_error(path: Path, compression: str | None, exc: Exception) -> DataError:
    message = str(exc)
    change = re.search(r"Column\(/([^)]*)\) changed from (\w+) to (\w+)", message)
    if change and change.group(1):
        column = change.group(1)
        found = _first_type_change(path, compression, column)
        where = f" on line {found[0]}" if found else ""
        first, other = (found[1], found[2]) if found else (change.group(2), change.group(3))
        return DataError(
            f"{path}: field {column.replace('/', '.')!r} holds {first} values and then a "
            f"{other}{where}; give each field one type (e.g. quote every value to make "
            f"it text)"
        )
    bad = _first_bad_json_line(path, compression)
    if bad is not None:
        return DataError(
            f"{path}: line {bad[0]} is {bad[1]}; JSON Lines needs one JSON object per "
            f"line - fix that line or re-export the file"
        )
    return DataError(
        f"{path}: not readable as JSON Lines ({_one_line(message)}); it needs one JSON "
        f"object per line in UTF-8 - re-export the file"
    )


def _read_jsonl(
    path: Path, options: ReadOptions, *, block_size: int = _BLOCK_SIZE
) -> TabularDataset:
    """Read JSON Lines; ``block_size`` (bytes per parsed block) is for tests."""
    import pyarrow.json as pjson

    path = Path(path)
    compression, from_content = _compression_of(path)
    sample, _ = _head(path, compression)
    if not sample.strip():
        raise DataError(
            f"{path}: the file is empty (no rows); check that it was saved or downloaded "
            f"completely"
        )
    notes: list[str] = []
    if compression is not None:
        how = " (detected from the content)" if from_content else ""
        notes.append(f"{compression}-compressed{how}")
    try:
        with _open_binary(path, compression) as handle:
            table = pjson.read_json(handle, read_options=pjson.ReadOptions(block_size=block_size))
    except pa.ArrowInvalid as exc:
        raise _jsonl_error(path, compression, exc) from exc
    except DataError:
        raise
    except _DECOMPRESSION_ERRORS as exc:
        raise _decompression_failed(path, compression, exc) from exc
    table, flattened = _flatten(path, table)
    notes.extend(flattened)
    _check_rows(path, table, "JSON Lines file")
    _check_finite(path, table)
    return TabularDataset(path=path, format="jsonl", notes=tuple(notes), table=table)


def read_jsonl(path: Path, options: ReadOptions) -> TabularDataset:
    """Read JSON Lines (one object per line; nested objects become ``a.b`` columns).

    ``options`` is accepted for the registry and not used: JSON is always UTF-8.
    """
    return _read_jsonl(path, options)


def _claims_jsonl(path: Path) -> bool:
    """Whether ``path`` is a ``.json`` file holding JSON Lines (its first line an object)."""
    path = Path(path)
    if not path.is_file() or format_suffix(path)[0] != ".json":
        return False
    try:
        sample, complete = _head(path, _compression_of(path)[0])
    except (DataError, OSError):
        return False
    for line in sample.splitlines(keepends=True):
        if not line.strip():
            continue
        if not line.endswith(b"\n") and not complete:
            return False  # the first record is longer than the sample
        try:
            return isinstance(json.loads(line), dict)
        except ValueError:
            return False
    return False


def _arrow_from_pandas(frame) -> pa.Table:
    """``frame`` as a pyarrow Table; object columns mixing kinds become text."""
    import pandas as pd

    for name in frame.columns:
        if frame[name].dtype != object:
            continue
        try:
            pa.array(frame[name], from_pandas=True)
        except (pa.ArrowException, TypeError, ValueError):
            # A sheet column holding both numbers and words: keep every value as text.
            frame[name] = frame[name].map(lambda v: None if pd.isna(v) else str(v))
    return pa.Table.from_pandas(frame, preserve_index=False)


def read_excel(path: Path, options: ReadOptions) -> TabularDataset:
    """Read the first sheet of an ``.xlsx`` workbook (``options`` is not used)."""
    import pandas as pd

    path = Path(path)
    _refuse_compression(path, "Excel")
    try:
        with pd.ExcelFile(path, engine="openpyxl") as workbook:
            sheets = list(workbook.sheet_names)
            frame = pd.read_excel(
                workbook,
                sheet_name=sheets[0],
                na_values=list(MISSING_MARKERS),
                keep_default_na=False,
            )
    except Exception as exc:  # openpyxl raises many kinds for damaged workbooks
        raise DataError(
            f"{path}: not a readable Excel workbook ({type(exc).__name__}: "
            f"{_one_line(exc, 120)}); open and re-save it as .xlsx, or export the sheet "
            f"to CSV"
        ) from exc
    notes = [f"sheet {sheets[0]!r} read"]
    if len(sheets) > 1:
        others = ", ".join(repr(name) for name in sheets[1:])
        notes[0] += f" (the first of {len(sheets)}; not read: {others})"
    names = []
    for index, name in enumerate(frame.columns, start=1):
        text = str(name)
        names.append(f"column_{index}" if text.startswith("Unnamed: ") else text)
    blank = [n for n, orig in zip(names, frame.columns) if str(orig).startswith("Unnamed: ")]
    if blank:
        notes.append(f"blank column names replaced: {', '.join(blank)}")
    frame.columns = names
    _check_column_names(path, names)
    if frame.empty:
        raise DataError(
            f"{path}: sheet {sheets[0]!r} holds no data rows; put the data on the first "
            f"sheet with a header row above it"
        )
    table = _arrow_from_pandas(frame)
    _check_finite(path, table)
    return TabularDataset(path=path, format="excel", notes=tuple(notes), table=table)


register_reader(
    Reader(
        name="csv",
        kind="tabular",
        suffixes=(".csv", ".tsv", ".tab", ".txt", ".dat", ".psv"),
        description="delimited text",
        read=read_csv,
    )
)
register_reader(
    Reader(
        name="parquet",
        kind="tabular",
        suffixes=(".parquet", ".pq"),
        description="Parquet",
        read=read_parquet,
    )
)
register_reader(
    Reader(
        name="jsonl",
        kind="tabular",
        suffixes=(".jsonl", ".ndjson"),
        description="JSON Lines or line-delimited .json",
        read=read_jsonl,
        claims=_claims_jsonl,
    )
)
register_reader(
    Reader(
        name="excel",
        kind="tabular",
        suffixes=(".xlsx",),
        description="Excel workbook, first sheet",
        read=read_excel,
    )
)
