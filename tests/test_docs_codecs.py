"""The codec reference (docs/codecs/) says what the code does: options, defaults, names, links.

Each options table on a page follows a marker line (a MyST comment, not rendered) naming the
codec classes it describes: ``% options: framekit.codecs.lines.Lines``. Several classes with
the same options share one table (``% options: A B``); ``% options: A without B`` lists the
options of ``A`` that ``B`` does not have (``TextLines`` beyond ``Lines``). A marker with no
table after it is for a class without options. For a function (``content_decoding``) the
options are its keyword-only parameters.

A table's rows are ``| `name` | type | `default` | meaning |``: the names must be the codec's
attrs fields in their order, the defaults Python expressions equal to the code's defaults
(``required`` for a field without one), the types the fields' annotations (a Literal alias
such as ``TrailingData`` written out as its Literal).

The byte diagrams are checked too: consecutive offsets, each char cell the byte under it in
hex, a legend line for every field, spanning exactly the bytes marked with its letter, and
the bytes shown are bytes an example on the page decodes or asserts.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import typing
from pathlib import Path
from typing import Any

import attrs
import pytest

import framekit.codecs
import framekit.codecs.http_framing
import framekit.codecs.smtp
from framekit._cli_codecs import CODECS

ROOT = Path(__file__).resolve().parent.parent
CODEC_DOCS = ROOT / "docs" / "codecs"
PAGES = sorted(CODEC_DOCS.glob("*.md"))
MARKER = re.compile(r"^% options: (.+)$", flags=re.MULTILINE)
ROLE = re.compile(r"\{(class|func|mod|data|meth|attr|exc)\}`~?([^`<]+?)`")


def codec_classes() -> list[type]:
    """Every codec class: a configuration with a ``decoder`` method, in framekit.codecs (and
    its smtp package), the contract's base classes aside."""
    found = []
    for module in (framekit.codecs, framekit.codecs.smtp):
        for name in module.__all__:
            obj = getattr(module, name)
            if isinstance(obj, type) and attrs.has(obj) and hasattr(obj, "decoder"):
                found.append(obj)
    return found


def resolve(path: str) -> Any:
    """The object a dotted path names: the longest importable module, then attributes."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for part in parts[cut:]:
            obj = getattr(obj, part)
        return obj
    raise ImportError(path)


def split_row(line: str) -> list[str]:
    """The cells of a Markdown table row (``\\|`` is a pipe inside a cell)."""
    cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
    return [cell.strip().replace("\\|", "|") for cell in cells]


def tables(page: Path) -> list[tuple[str, list[list[str]]]]:
    """Each marker's text and the rows of the table after it (none: no table)."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found = []
    for index, line in enumerate(lines):
        match = MARKER.match(line)
        if match is None:
            continue
        rest = index + 1
        while rest < len(lines) and not lines[rest].strip():
            rest += 1
        rows = []
        if rest < len(lines) and lines[rest].startswith("|"):
            rest += 2  # the header and its separator
            while rest < len(lines) and lines[rest].startswith("|"):
                rows.append(split_row(lines[rest]))
                rest += 1
        found.append((match.group(1), rows))
    return found


def documented() -> dict[Any, list[str]]:
    """The markers of the options tables, by the class (or function) each is for."""
    by_target: dict[Any, list[str]] = {}
    for page in PAGES:
        for marker, _ in tables(page):
            for name in marker.split(" without ")[0].split():
                by_target.setdefault(resolve(name), []).append(marker)
    return by_target


def written_out(hint: str, module: Any) -> str:
    """An annotation as a table shows it: a Literal alias of the module (``TrailingData``)
    as its Literal, anything else as written in the source."""
    alias = getattr(module, hint, None)
    if typing.get_origin(alias) is not typing.Literal:
        return hint
    values = ", ".join(
        f'"{value}"' if isinstance(value, str) else repr(value) for value in typing.get_args(alias)
    )
    return f"Literal[{values}]"


def options_of(target: Any) -> list[tuple[str, str, object]]:
    """``(name, type, default)`` of each option: attrs fields, or keyword-only parameters."""
    module = inspect.getmodule(target)
    if attrs.has(target):
        return [
            (field.name, written_out(str(field.type), module), field.default)
            for field in attrs.fields(target)
            if field.init
        ]
    parameters = inspect.signature(target).parameters.values()
    return [
        (parameter.name, written_out(str(parameter.annotation), module), parameter.default)
        for parameter in parameters
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    ]


def unquote(cell: str) -> str:
    assert cell.startswith("`") and cell.endswith("`"), cell
    return cell[1:-1]


def expected_rows(marker: str) -> list[tuple[str, str, object]]:
    names = marker.split(" without ")
    wanted = options_of(resolve(names[0].split()[0]))
    if len(names) == 2:
        inherited = {name for name, _, _ in options_of(resolve(names[1]))}
        wanted = [option for option in wanted if option[0] not in inherited]
    return wanted


def test_there_is_a_page_of_codecs() -> None:
    assert CODEC_DOCS / "index.md" in PAGES
    assert len(PAGES) > 1


def test_every_codec_has_an_options_table() -> None:
    tabled = documented()
    for codec in codec_classes():
        assert codec in tabled, f"no options table for {codec.__name__}"
        assert len(tabled[codec]) == 1, f"{codec.__name__} has several: {tabled[codec]}"
    assert framekit.codecs.content_decoding in tabled
    assert framekit.codecs.http_framing.body_framing in tabled


@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_options_tables_list_the_fields_and_defaults_of_the_code(page: Path) -> None:
    for marker, rows in tables(page):
        targets = marker.split(" without ")[0].split()
        wanted = expected_rows(marker)
        for other in targets[1:]:
            assert options_of(resolve(other)) == options_of(resolve(targets[0])), marker
        listed = [unquote(row[0]) for row in rows]
        assert listed == [name for name, _, _ in wanted], f"{page.name}: {marker}"
        for row, (name, hint, default) in zip(rows, wanted, strict=True):
            assert len(row) == 4, f"{page.name}: {marker}: {row}"
            # Annotations are kept as source text, normalised to single quotes.
            written_type = unquote(row[1]).replace('"', "'")
            assert written_type == hint.replace('"', "'"), f"{page.name}: {marker}: type of {name}"
            if default is attrs.NOTHING or default is inspect.Parameter.empty:
                assert row[2] == "required", f"{page.name}: {marker}: {name}"
            else:
                written = eval(unquote(row[2]), {})  # the page's own literal
                assert written == default, f"{page.name}: {marker}: the default of {name}"
            assert row[3], f"{page.name}: {marker}: {name} has no meaning"


def documented_modules() -> set[str]:
    """The modules whose members docs/api.md documents (``automodule`` without ``:no-members:``)."""
    api = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    found = re.findall(r"^\.\. automodule:: (\S+)\n(?!   :no-members:)", api, flags=re.MULTILINE)
    return set(found)


def every_module() -> set[str]:
    """The modules docs/api.md has an entry for."""
    api = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    return set(re.findall(r"^\.\. automodule:: (\S+)$", api, flags=re.MULTILINE))


@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_api_roles_name_objects_the_api_reference_documents(page: Path) -> None:
    """Each role's target is a name docs/api.md documents: a member of a module autodoc
    renders (defined there, or in its ``__all__``), so the link resolves (an unresolved role
    is no warning in the build)."""
    modules = documented_modules()
    for role, target in ROLE.findall(page.read_text(encoding="utf-8")):
        resolve(target)
        if role == "mod":
            assert target in every_module(), f"{page.name}: {target} is not in docs/api.md"
            continue
        owner, name = target.rsplit(".", 1)
        if role in ("meth", "attr"):
            owner, name = owner.rsplit(".", 1)
        assert owner in modules, f"{page.name}: {target}: {owner} is not documented in api.md"
        module = importlib.import_module(owner)
        obj = getattr(module, name)
        assert name in getattr(module, "__all__", [name]) or (
            getattr(obj, "__module__", None) == owner
        ), f"{page.name}: {target} is not documented under {owner}"


def test_the_index_lists_every_codec_with_its_kind_and_command_line_name() -> None:
    index = (CODEC_DOCS / "index.md").read_text(encoding="utf-8")
    rows = [split_row(line) for line in index.splitlines() if line.startswith("| {")]
    by_class: dict[Any, list[str]] = {}
    for row in rows:
        for target in re.findall(r"\{(?:class|func)\}`~?([^`]+)`", row[0]):
            by_class[resolve(target)] = row
    for codec in codec_classes():
        assert codec in by_class, f"the index has no row for {codec.__name__}"
        row = by_class[codec]
        names = [name for name, entry in CODECS.items() if command_codec(entry) is codec]
        listed = re.findall(r"`([a-z0-9-]+)`", row[2])
        assert listed == names or (not names and row[2] == "none"), f"{codec.__name__}: {row}"
        assert row[1] == kind_of(codec), f"{codec.__name__}: its kind"
    for entry in CODECS.values():
        if entry.kind != "messages":
            assert by_class[entry.factory][1] == entry.kind, entry.name


#: The command's message codecs (a head, then its body by the framing rules), by the head codec
#: whose row names them.
MESSAGE_HEADS = {
    "http-response": framekit.codecs.http.ResponseHeads,
    "http-request": framekit.codecs.http.RequestHeads,
}


def command_codec(entry: Any) -> Any:
    """The codec whose index row names the command-line codec ``entry``."""
    if entry.kind == "messages":
        return MESSAGE_HEADS[entry.name]
    return entry.factory


def kind_of(codec: type) -> str:
    """``frames`` for a frame codec, ``bytes`` for a byte codec, by its decoder's ``decode``."""
    instance = codec(0) if codec is framekit.codecs.Limited else codec()
    decode = instance.decoder().decode
    return "frames" if "frames" in inspect.signature(decode).parameters else "bytes"


DIAGRAM = re.compile(r"^```text\n(offset .*?)^```", flags=re.DOTALL | re.MULTILINE)
NAMED = {"\\r": 13, "\\n": 10, "SP": 32, "\\t": 9}


def diagram_bytes(text: str) -> tuple[bytes, list[str], list[str]]:
    """A diagram's bytes, the field letter under each, and its legend lines.

    A diagram is blocks of four rows (``offset``, ``char``, ``hex``, ``field``, one cell per
    byte at the offset's column), then a legend line per field: its letter, the offsets it
    spans (``4-8``) and what it is. Each char cell must show its hex byte (or be empty).
    """
    lines = text.rstrip("\n").split("\n")
    data = bytearray()
    marks: list[str] = []
    index = 0
    while index < len(lines) and lines[index].startswith("offset"):
        offset_row, char_row, hex_row, field_row = lines[index : index + 4]
        assert char_row.startswith("char") and hex_row.startswith("hex"), text
        assert field_row.startswith("field"), text
        for match in re.finditer(r"\d+", offset_row):
            assert int(match.group()) == len(data), f"offsets not consecutive: {offset_row}"
            start = match.start()
            end = start + max(3, len(match.group()) + 1)
            byte = int(hex_row[start:end], 16)
            shown = char_row[start:end].strip()
            if shown:
                assert NAMED.get(shown, ord(shown[0]) if len(shown) == 1 else -1) == byte, (
                    f"char {shown!r} is not byte {byte:02x}"
                )
            data.append(byte)
            marks.append(field_row[start:end].strip())
        index += 4
        if index < len(lines) and not lines[index]:
            index += 1
    return bytes(data), marks, lines[index:]


@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_byte_diagrams_agree_with_their_legends(page: Path) -> None:
    for text in DIAGRAM.findall(page.read_text(encoding="utf-8")):
        data, marks, legend = diagram_bytes(text)
        assert data and "." not in marks, f"{page.name}: a byte without a field\n{text}"
        covered = ["."] * len(data)
        for line in legend:
            match = re.match(r"(\S)  (\d+)(?:-(\d+))? +\S", line)
            assert match, f"{page.name}: legend line {line!r}"
            first = int(match.group(2))
            last = int(match.group(3) or first)
            for at in range(first, last + 1):
                assert marks[at] == match.group(1), f"{page.name}: {line!r} at {at}"
                covered[at] = marks[at]
        assert covered == marks, f"{page.name}: bytes no legend line covers\n{text}"


def example_bytes(page: Path) -> list[bytes]:
    """The bytes literals of a page's Python blocks, and the ``bytes.fromhex`` ones."""
    found = []
    for block in re.findall(r"^```python\n(.*?)^```", page.read_text("utf-8"), re.S | re.M):
        for node in ast.walk(ast.parse(block)):
            if isinstance(node, ast.Constant) and isinstance(node.value, bytes):
                found.append(node.value)
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "fromhex"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                found.append(bytes.fromhex(node.args[0].value))
    return found


@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_byte_diagrams_show_bytes_the_examples_use(page: Path) -> None:
    literals = example_bytes(page)
    for text in DIAGRAM.findall(page.read_text(encoding="utf-8")):
        data = diagram_bytes(text)[0]
        assert any(data in literal for literal in literals), f"{page.name}: no example of\n{text}"
