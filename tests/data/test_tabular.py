"""Tests of the tabular readers (dladvisor.data.tabular) through the registry.

Every file here is synthetic, written to ``tmp_path`` by the test itself: each needs one
exact property (a delimiter, an encoding, a compression, a defect) that no small real
data set has on its own, and the tests must run offline.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dladvisor.data import ReadOptions, TabularDataset, read
from dladvisor.data.tabular import MISSING_MARKERS, _read_csv, _read_jsonl
from dladvisor.errors import (
    ConfigError,
    DataError,
    DataFileNotFoundError,
    UnsupportedFormatError,
)

SIMPLE = "age,city,income\n31,Paris,4.5\n45,Lyon,5.25\n27,Nice,3.0\n"


def write(path: Path, text: str | bytes, encoding: str = "utf-8") -> Path:
    data = text if isinstance(text, bytes) else text.encode(encoding)
    path.write_bytes(data)
    return path


def read_error(path: Path, options: ReadOptions | None = None, **kwargs) -> str:
    """The one-line message of the DataError reading ``path`` raises."""
    with pytest.raises(DataError) as caught:
        if kwargs:
            _read_csv(path, options or ReadOptions(), **kwargs)
        else:
            read(path, options)
    message = str(caught.value)
    assert "\n" not in message, message
    assert str(path) in message, message
    return message


def assert_simple(data: TabularDataset) -> None:
    assert isinstance(data, TabularDataset)
    assert data.column_names == ["age", "city", "income"]
    assert data.num_rows == 3
    assert data.table.column("age").type == pa.int64()
    assert data.table.column("income").type == pa.float64()
    assert data.table.column("city").to_pylist() == ["Paris", "Lyon", "Nice"]


# --------------------------------------------------------------------------- delimiters


@pytest.mark.parametrize(
    ("delimiter", "name", "suffix"),
    [(",", "','", ".csv"), (";", "';'", ".csv"), ("\t", "tab", ".txt"), ("|", "'|'", ".dat")],
)
def test_delimiter_is_sniffed(tmp_path, delimiter, name, suffix):
    path = write(tmp_path / f"data{suffix}", SIMPLE.replace(",", delimiter))
    data = read(path)
    assert_simple(data)
    assert data.format == "csv"
    assert f"delimiter {name} (sniffed)" in data.notes


def test_semicolon_file_with_decimal_commas_keeps_semicolon(tmp_path):
    path = write(tmp_path / "eu.csv", "a;b\n1,5;2\n2,5;3\n3,5;4\n")
    data = read(path)
    assert data.column_names == ["a", "b"]
    assert "delimiter ';' (sniffed)" in data.notes


def test_tsv_suffix_implies_tab(tmp_path):
    path = write(tmp_path / "data.tsv", SIMPLE.replace(",", "\t"))
    data = read(path)
    assert_simple(data)
    assert "delimiter tab (from the .tsv suffix)" in data.notes


def test_forced_delimiter_and_encoding(tmp_path):
    path = write(tmp_path / "data.csv", SIMPLE.replace(",", ";"))
    data = read(path, ReadOptions(delimiter=";", encoding="utf-8"))
    assert_simple(data)
    assert "delimiter ';' (given)" in data.notes
    assert "encoding utf-8 (given)" in data.notes


def test_forced_tab_alias(tmp_path):
    path = write(tmp_path / "data.csv", SIMPLE.replace(",", "\t"))
    assert_simple(read(path, ReadOptions(delimiter="tab")))


def test_bad_forced_options_are_config_errors(tmp_path):
    path = write(tmp_path / "data.csv", SIMPLE)
    with pytest.raises(ConfigError, match="one character"):
        read(path, ReadOptions(delimiter=";;"))
    with pytest.raises(ConfigError, match="unknown encoding"):
        read(path, ReadOptions(encoding="no-such-codec"))


def test_single_column_file(tmp_path):
    path = write(tmp_path / "one.csv", "value\n1\n2\n3\n")
    data = read(path)
    assert data.column_names == ["value"]
    assert data.table.column("value").to_pylist() == [1, 2, 3]


# --------------------------------------------------------------------------- header


def test_header_absent_names_columns(tmp_path):
    path = write(tmp_path / "noheader.csv", "1,2.5,red\n3,4.5,blue\n5,6.5,red\n")
    data = read(path)
    assert data.column_names == ["column_1", "column_2", "column_3"]
    assert data.num_rows == 3
    assert data.table.column("column_1").to_pylist() == [1, 3, 5]
    assert "header row sniffed: absent, columns named column_1..column_3" in data.notes


def test_header_present_with_all_text_columns(tmp_path):
    path = write(tmp_path / "text.csv", "name,colour\nann,red\nbob,blue\ncid,red\n")
    data = read(path)
    assert data.column_names == ["name", "colour"]
    assert data.num_rows == 3


def test_all_text_without_header_is_detected_by_repeats(tmp_path):
    path = write(tmp_path / "text.csv", "red,small\nblue,large\nred,small\n")
    data = read(path)
    assert data.column_names == ["column_1", "column_2"]
    assert data.num_rows == 3


def test_blank_header_name_is_replaced(tmp_path):
    path = write(tmp_path / "index.csv", ",a,b\n0,1,2\n1,3,4\n")
    data = read(path)
    assert data.column_names == ["column_1", "a", "b"]
    assert any("blank column names replaced" in note for note in data.notes)


# --------------------------------------------------------------------------- compression


@pytest.mark.parametrize(
    ("suffix", "compress", "name"),
    [
        (".gz", gzip.compress, "gzip"),
        (".bz2", bz2.compress, "bz2"),
        (".xz", lzma.compress, "xz"),
    ],
)
def test_compressed_files_are_looked_through(tmp_path, suffix, compress, name):
    path = write(tmp_path / f"data.csv{suffix}", compress(SIMPLE.encode()))
    data = read(path)
    assert_simple(data)
    assert f"{name}-compressed" in data.notes


def test_zip_with_one_member(tmp_path):
    path = tmp_path / "data.csv.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("inner/data.csv", SIMPLE)
    data = read(path)
    assert_simple(data)
    assert "zip-compressed" in data.notes


def test_zip_with_two_members_is_refused(tmp_path):
    path = tmp_path / "data.csv.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.csv", SIMPLE)
        archive.writestr("b.csv", SIMPLE)
    message = read_error(path)
    assert "exactly one data file, found 2" in message
    assert "a.csv" in message and "unzip" in message


@pytest.mark.parametrize("member", ["../../outside.csv", "/tmp/absolute.csv", "a/../../b.csv"])
def test_zip_member_leading_outside_the_archive_is_refused(tmp_path, member):
    path = tmp_path / "data.csv.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(member, SIMPLE)
    message = read_error(path)
    assert "leads outside it" in message and repr(member) in message
    assert "re-create the archive" in message
    assert list(tmp_path.iterdir()) == [path]  # nothing unpacked anywhere


def test_gzip_without_gz_suffix_is_detected(tmp_path):
    path = write(tmp_path / "data.csv", gzip.compress(SIMPLE.encode()))
    data = read(path)
    assert_simple(data)
    assert "gzip-compressed (detected from the content)" in data.notes


def test_corrupt_gzip(tmp_path):
    path = write(tmp_path / "data.csv.gz", gzip.compress(SIMPLE.encode() * 50)[:40])
    message = read_error(path)
    assert "corrupt or truncated" in message and "re-download" in message


# --------------------------------------------------------------------------- encodings


def test_utf8_bom(tmp_path):
    path = write(tmp_path / "bom.csv", b"\xef\xbb\xbf" + SIMPLE.encode())
    data = read(path)
    assert_simple(data)
    assert "encoding UTF-8 with byte-order mark" in data.notes


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1"])
def test_western_single_byte_encoding_is_decoded(tmp_path, encoding):
    text = "name;city;score\nJosé;Málaga;1\nFrançois;Besançon;2\nZoë;Köln;3\n"
    path = write(tmp_path / "accents.csv", text, encoding=encoding)
    data = read(path)
    assert data.table.column("name").to_pylist() == ["José", "François", "Zoë"]
    assert data.table.column("city").to_pylist() == ["Málaga", "Besançon", "Köln"]
    assert "encoding cp1252 (sniffed; not UTF-8)" in data.notes


def test_cyrillic_cp1251_is_not_taken_for_cp1252(tmp_path):
    text = "имя,город\n" + "Иван,Москва\nПётр,Санкт-Петербург\nАнна,Казань\n" * 20
    path = write(tmp_path / "ru.csv", text, encoding="cp1251")
    data = read(path)
    assert data.table.column("имя").to_pylist()[:2] == ["Иван", "Пётр"]


def test_undetectable_encoding(tmp_path):
    # Bytes above 0x80 with no structure: no codec makes sense of them.
    noise = bytes((i * 37 + 11) % 128 + 128 for i in range(600))
    path = write(tmp_path / "noise.csv", b"a,b\n" + noise + b"\n")
    message = read_error(path)
    assert "not UTF-8" in message and "could not be determined" in message
    assert "--encoding" in message and "UTF-8" in message


def test_invalid_utf8_after_the_sniffed_head(tmp_path):
    # The first 64 KiB are ASCII, so UTF-8 is sniffed; a cp1252 byte comes later.
    body = "word,n\n" + "plain,1\n" * 10000 + "caf\xe9,2\n"
    path = write(tmp_path / "late.csv", body, encoding="cp1252")
    message = read_error(path)
    assert "--encoding" in message


# --------------------------------------------------------------------------- types


def test_missing_markers_become_null(tmp_path):
    path = write(tmp_path / "missing.csv", "a,b\n1,x\n?,NA\nNaN,\n4,null\n")
    data = read(path)
    assert data.table.column("a").to_pylist() == [1, None, None, 4]
    assert data.table.column("b").to_pylist() == ["x", None, None, None]
    assert "?" in MISSING_MARKERS and "-" not in MISSING_MARKERS


def test_spaces_after_delimiters_are_stripped(tmp_path):
    # The layout of UCI's adult data: ", " between values and " ?" for missing.
    text = "39, State-gov, 77516\n50, ?, 83311\n38, Private, 215646\n"
    path = write(tmp_path / "adult.csv", text)
    data = read(path)
    assert data.table.column("column_2").to_pylist() == ["State-gov", None, "Private"]
    assert data.table.column("column_1").to_pylist() == [39, 50, 38]
    assert "spaces after each delimiter removed from text values" in data.notes


def test_late_block_with_text_in_an_integer_column(tmp_path):
    rows = "".join(f"{i},{i * 2}\n" for i in range(300))
    path = write(tmp_path / "late.csv", "a,b\n" + rows + "abc,7\n")
    data = _read_csv(path, ReadOptions(), block_size=256)
    assert data.table.column("a").type == pa.string()
    assert data.table.column("a").to_pylist()[-1] == "abc"
    assert data.table.column("b").type == pa.int64()
    assert data.num_rows == 301
    assert any("a (int64 -> string)" in note for note in data.notes)


def test_late_block_with_a_float_in_an_integer_column(tmp_path):
    rows = "".join(f"{i},{i}\n" for i in range(300))
    path = write(tmp_path / "late.csv", "a,b\n" + rows + "1.5,7\n")
    data = _read_csv(path, ReadOptions(), block_size=256)
    assert data.table.column("a").type == pa.float64()
    assert data.table.column("a").to_pylist()[-1] == 1.5


def test_all_null_first_block(tmp_path):
    rows = "".join(f"{i},\n" for i in range(300))
    path = write(tmp_path / "late.csv", "a,b\n" + rows + "1,7\n2,x\n")
    data = _read_csv(path, ReadOptions(), block_size=256)
    assert data.table.column("b").type == pa.string()
    assert data.table.column("b").to_pylist()[-2:] == ["7", "x"]


def test_quoted_newlines_in_values(tmp_path):
    path = write(tmp_path / "quoted.csv", 'id,text\n1,"two\nlines"\n2,plain\n')
    data = read(path)
    assert data.table.column("text").to_pylist() == ["two\nlines", "plain"]


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("content", [b"", b"  \n\n \t\n"])
def test_empty_file(tmp_path, content):
    message = read_error(write(tmp_path / "empty.csv", content))
    assert "empty" in message and "completely" in message


def test_header_only(tmp_path):
    message = read_error(write(tmp_path / "header.csv", "a,b,c\n"))
    assert "no data rows" in message and "add data" in message


def test_binary_named_csv(tmp_path):
    message = read_error(write(tmp_path / "model.csv", bytes(range(256)) * 4))
    assert "does not look like delimited text" in message
    assert "convert it to CSV" in message


def test_parquet_named_csv(tmp_path):
    path = tmp_path / "data.csv"
    pq.write_table(pa.table({"a": [1, 2]}), path)
    message = read_error(path)
    assert "Parquet" in message and ".parquet" in message


@pytest.mark.parametrize("block_size", [None, 128])
def test_ragged_row_names_the_line(tmp_path, block_size):
    rows = "".join(f"{i},{i}\n" for i in range(1, 40))
    path = write(tmp_path / "ragged.csv", "a,b\n" + rows + "\n7,8,9\n10,11\n")
    kwargs = {"block_size": block_size} if block_size else {}
    message = read_error(path, **kwargs)
    assert "line 42 has 3 fields but the header has 2" in message
    assert "fix that row" in message


def test_duplicate_column_names(tmp_path):
    message = read_error(write(tmp_path / "dups.csv", "a,b,a,b,c\n1,2,3,4,5\n"))
    assert "duplicate column names 'a', 'b'" in message
    assert "rename" in message


def test_infinite_values(tmp_path):
    path = write(tmp_path / "inf.csv", "x,y\n1.0,a\ninf,b\n2.0,c\n-inf,d\n")
    message = read_error(path)
    assert "column 'x' holds 2 infinite value(s), the first in data row 2" in message
    assert "replace them with blanks" in message


# --------------------------------------------------------------------------- parquet


def test_parquet(tmp_path):
    path = tmp_path / "data.parquet"
    pq.write_table(pa.table({"a": [1, 2, 3], "b": ["x", "y", None]}), path)
    data = read(path)
    assert data.format == "parquet"
    assert data.column_names == ["a", "b"]
    assert data.table.column("b").to_pylist() == ["x", "y", None]


def test_parquet_nested_records_are_flattened(tmp_path):
    path = tmp_path / "nested.pq"
    pq.write_table(pa.table({"p": [{"x": 1, "y": 2.0}, {"x": 3, "y": 4.0}]}), path)
    data = read(path)
    assert data.column_names == ["p.x", "p.y"]


def test_corrupt_parquet(tmp_path):
    message = read_error(write(tmp_path / "bad.parquet", b"PAR1 this is not parquet"))
    assert "not a readable Parquet file" in message and "re-export" in message


def test_parquet_infinite_values(tmp_path):
    path = tmp_path / "inf.parquet"
    pq.write_table(pa.table({"v": [1.0, float("inf")]}), path)
    assert "column 'v' holds 1 infinite value(s)" in read_error(path)


# --------------------------------------------------------------------------- json lines


def test_jsonl(tmp_path):
    path = write(tmp_path / "data.jsonl", '{"a": 1, "b": "x"}\n{"a": 2, "b": null}\n')
    data = read(path)
    assert data.format == "jsonl"
    assert data.table.column("a").to_pylist() == [1, 2]
    assert data.table.column("b").to_pylist() == ["x", None]


def test_json_suffix_with_json_lines_is_claimed(tmp_path):
    path = write(tmp_path / "data.json", '{"a": 1}\n{"a": 2}\n')
    assert read(path).num_rows == 2


def test_json_document_is_not_claimed(tmp_path):
    path = write(tmp_path / "doc.json", '[\n  {"a": 1}\n]\n')
    with pytest.raises(UnsupportedFormatError, match="JSON Lines"):
        read(path)


def test_jsonl_nested_objects_are_flattened(tmp_path):
    path = write(tmp_path / "nested.ndjson", '{"a": {"b": 1, "c": {"d": "x"}}}\n')
    data = read(path)
    assert data.column_names == ["a.b", "a.c.d"]
    assert "nested records flattened into columns named parent.child" in data.notes


def test_jsonl_gzip(tmp_path):
    path = write(tmp_path / "data.jsonl.gz", gzip.compress(b'{"a": 1}\n{"a": 2}\n'))
    data = read(path)
    assert data.num_rows == 2 and "gzip-compressed" in data.notes


def test_jsonl_lists_are_refused(tmp_path):
    message = read_error(write(tmp_path / "lists.jsonl", '{"tags": [1, 2]}\n'))
    assert "column 'tags' holds lists" in message and "expand it" in message


def test_corrupt_jsonl_names_the_line(tmp_path):
    message = read_error(write(tmp_path / "bad.jsonl", '{"a": 1}\n{"a": 2}\n{bad\n'))
    assert "line 3 is invalid JSON" in message and "fix that line" in message


def test_jsonl_type_change(tmp_path):
    lines = '{"a": 1}\n' * 50 + '{"a": "x"}\n'
    path = write(tmp_path / "change.jsonl", lines)
    with pytest.raises(DataError) as caught:
        _read_jsonl(path, ReadOptions(), block_size=128)
    message = str(caught.value)
    assert "field 'a' holds number values and then a string on line 51" in message
    assert str(path) in message and "\n" not in message


def test_empty_jsonl(tmp_path):
    assert "empty" in read_error(write(tmp_path / "empty.jsonl", b"\n"))


# --------------------------------------------------------------------------- excel


def test_excel_first_sheet(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Data"
    for row in [["age", "city"], [31, "Paris"], [45, "?"], [27, "Nice"]]:
        sheet.append(row)
    book.create_sheet("Notes").append(["ignored"])
    path = tmp_path / "book.xlsx"
    book.save(path)
    data = read(path)
    assert data.format == "excel"
    assert data.column_names == ["age", "city"]
    assert data.table.column("age").to_pylist() == [31, 45, 27]
    assert data.table.column("city").to_pylist() == ["Paris", None, "Nice"]
    assert "sheet 'Data' read (the first of 2; not read: 'Notes')" in data.notes


def test_excel_mixed_column_becomes_text(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    for row in [["code"], [1], ["A7"], [3]]:
        book.active.append(row)
    path = tmp_path / "mixed.xlsx"
    book.save(path)
    assert read(path).table.column("code").to_pylist() == ["1", "A7", "3"]


def test_corrupt_excel(tmp_path):
    message = read_error(write(tmp_path / "bad.xlsx", b"not a workbook at all"))
    assert "not a readable Excel workbook" in message and "re-save" in message


def test_excel_header_only(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active.append(["a", "b"])
    path = tmp_path / "empty.xlsx"
    book.save(path)
    assert "no data rows" in read_error(path)


# --------------------------------------------------------------------------- registry


def test_unsupported_suffix_lists_formats(tmp_path):
    path = write(tmp_path / "data.xyz", SIMPLE)
    with pytest.raises(UnsupportedFormatError) as caught:
        read(path)
    message = str(caught.value)
    for expected in ("'.xyz'", ".csv", ".parquet", ".jsonl", ".xlsx", ".gz"):
        assert expected in message
    assert "\n" not in message
    assert "; rename it if it holds one of the supported formats" in message


def test_bare_zip_archive_says_to_unzip(tmp_path):
    path = tmp_path / "archive.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("images/cat.png", b"\x89PNG")
    with pytest.raises(UnsupportedFormatError) as caught:
        read(path)
    assert str(caught.value) == (
        f"{path}: a zip archive is read only when it holds one delimited text file and is "
        "named like it (data.csv.zip); unzip it and point at the data file or folder inside"
    )


def test_missing_path(tmp_path):
    with pytest.raises(DataFileNotFoundError, match="no such file"):
        read(tmp_path / "absent.csv")


def test_directory(tmp_path):
    # Folders go to the image-folder reader; one without pictures says what to point at.
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    message = read_error(folder)
    assert "no images found" in message and "data file" in message


def test_input_file_is_not_modified(tmp_path):
    path = write(tmp_path / "keep.csv.gz", gzip.compress(SIMPLE.encode()))
    os.utime(path, (1_000_000_000, 1_000_000_000))
    before = path.read_bytes()
    assert_simple(read(path))
    assert path.read_bytes() == before
    assert path.stat().st_mtime == 1_000_000_000


def test_quoted_newline_beyond_the_sniffed_head(tmp_path):
    rows = "".join(f"{i},plain\n" for i in range(9000))
    path = write(tmp_path / "late_quote.csv", "id,text\n" + rows + '9000,"two\nlines"\n')
    data = read(path)
    assert data.num_rows == 9001
    assert data.table.column("text").to_pylist()[-1] == "two\nlines"


def test_many_late_type_changes_fall_back_to_whole_file_inference(tmp_path, monkeypatch):
    monkeypatch.setattr("dladvisor.data.tabular._MAX_TYPE_RETRIES", 1)
    rows = "".join(f"{i},{i},{i}\n" for i in range(300))
    path = write(tmp_path / "late.csv", "a,b,c\n" + rows + "x,y,1.5\n")
    data = _read_csv(path, ReadOptions(), block_size=256)
    assert [data.table.column(n).type for n in "abc"] == [pa.string(), pa.string(), pa.float64()]
    assert data.num_rows == 301
    assert any("types inferred over the whole file" in note for note in data.notes)


def test_utf16_with_byte_order_mark(tmp_path):
    path = write(tmp_path / "wide.csv", SIMPLE, encoding="utf-16")
    data = read(path)
    assert_simple(data)
    assert "encoding UTF-16 (byte-order mark)" in data.notes


def test_workbook_named_csv(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active.append(["a"])
    path = tmp_path / "sheet.csv"
    book.save(path)
    message = read_error(path)
    assert "looks like an Excel workbook" in message and ".xlsx" in message
