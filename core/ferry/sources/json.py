"""JSON and JSON Lines sources, streamed so memory stays flat whatever the file size.

A JSON document is read with ijson's C backend: ``items``/``kvitems`` build each record in C
and :mod:`ferry.sources.records` reshapes records into rows. Three layouts (``shape``) are
understood: ``records`` (an array), ``keyed`` (an object of objects keyed by id) and ``kv`` (a
flat settings map). Lists of objects inside records become child tables that carry their
parent's key, so ``executions.json`` feeds ``executions`` and ``executions.steps`` in one pass.

A top-level array read whole (the common case, and the bulk of the time) goes through
:class:`_FastArray` instead: the stdlib's C scanner, element by element, in bounded memory. It
hands over to ijson at the first thing it cannot vouch for, so values, errors and the point
where they are raised stay ijson's.

Long on purpose: the fast scanner, the ijson path and the JSON Lines reader are one tight parser
that must refuse the same things (duplicate keys, NaN, overlong strings and numbers, deep
nesting) with the same messages at the same places, sharing one set of guards, decoders and
buffer sizes (which the tests shrink in one place to reach every hand-over). Splitting it would
scatter those rules over modules that each need all of them; the record shaping it feeds is
already :mod:`ferry.sources.records`.
"""

from __future__ import annotations

import io
import json
import re
from codecs import utf_8_decode
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import accumulate, islice
from json.scanner import make_scanner
from operator import sub
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import ijson

from ..capabilities import SourceCapabilities
from ..errors import SourceError
from ..safety.inputlimits import MAX_JSONL_LINE_BYTES, MAX_STRING_BYTES, mib
from .base import Batch
from .jsoncomments import CommentedJsonError, without_comments
from .nedb import NedbLog, nedb_documents, unkeyed_notice
from .quickjson import UNSURE, quick_loads
from .records import DICTS, HINT_DUP, MAX_DEPTH, Shaper, StrictDict, parse_flags
from .recordsource import RecordSource
from .text import BOM, file_error

if TYPE_CHECKING:
    from ..plan import SourceSpec

CHUNK = 4096  # bytes handed to ijson per read: bounds how deep one chunk can nest
_REPARSE_LIMIT = 64 * 1024 * 1024  # below this a bad file is re-read for line and column
_DETECT = 20  # values that decide between shapes keyed and kv
_OVERFLOW = ("integer overflow", "numeric (floating point) overflow")
_HINT_FIX = "Fix the file at the position given."
_HINT_CUT = "The file looks cut off: restore it from a backup or export it again."
_HINT_UTF8 = "Convert the file to UTF-8 (e.g. `iconv -f cp1252 -t utf-8`)."
_HINT_NAN = "Replace NaN and Infinity with null (JSON has no such numbers)."


class _DuplicateKey(Exception):
    pass


class _TooDeep(Exception):
    pass


class _LongString(Exception):
    """A string (a key or a value) longer than MAX_STRING_BYTES; args: the byte offset."""


class _LongNumber(Exception):
    pass


class _Constant(ValueError):
    pass


_MARK = object()  # a key no JSON object has


class _MarkingDict(dict[Any, Any]):
    """For finding a duplicate after the fact: the dict keeps the repeated key under _MARK."""

    def __setitem__(self, key: Any, value: Any) -> None:
        dict.__setitem__(self, _MARK if key in self else key, key if key in self else value)


def _marked(value: Any) -> Any:
    """The duplicate key noted by a _MarkingDict anywhere in ``value`` (None if none)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if _MARK in item:
                return item[_MARK]
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return None


#: the longest run of digits an exact read (big integers) takes: Python refuses to read longer
#: integers (sys.int_info.default_max_str_digits), and ijson's C backend crashes on them
MAX_DIGITS = 4300
_DIGITS = b"0123456789"
_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


class _GuardedReader:
    """Feeds ijson 4 KiB at a time and stops documents nested deeper than MAX_DEPTH.

    ijson keeps a prefix string per level, so its memory grows with depth squared and 100000
    ``[`` would take the process down. Depth is counted with ``bytes.count`` (C speed), which
    also counts brackets inside strings: a string with many unmatched ``[`` can trip the limit.
    That errs on the side of refusing, which is acceptable for application state.

    With ``digits``, a run of more than MAX_DIGITS digits (in a number or, erring again, in a
    string) stops the read too: the exact reads (``use_float=False``) need it.
    """

    def __init__(self, raw: IO[bytes], offset: int, digits: bool = False) -> None:
        self._raw = raw
        self.offset = offset
        self._depth = 0
        self._digits = digits
        self._run = 0  # digits at the end of what was read so far
        self._in_string = False  # inside a string at the end of what was read so far
        self._string_run = 0  # bytes of that string read so far (escapes not counted)
        self._escaped = False  # the last chunk ended in an unpaired backslash

    def read(self, size: int = -1) -> bytes:
        if size == 0:
            return b""
        data = self._raw.read(CHUNK if size < 0 else min(size, CHUNK))
        depth = self._depth
        opens = data.count(b"[") + data.count(b"{")
        if depth + opens > MAX_DEPTH:
            # A dense chunk: follow its brackets alone to find the real peak.
            steps = map(_STEP.__getitem__, data.translate(None, _NOT_BRACKETS))
            if max(accumulate(steps, initial=depth)) > MAX_DEPTH:
                for index, byte in enumerate(data):
                    depth += _STEP.get(byte, 0)
                    if depth > MAX_DEPTH:
                        raise _TooDeep(self.offset + index)
        self._depth = max(0, self._depth + opens - data.count(b"]") - data.count(b"}"))
        if self._digits and data:
            self._count_digits(data)
        if data:
            self._count_string(data)
        self.offset += len(data)
        return data

    def _count_string(self, data: bytes) -> None:
        # ijson (and the fast reader) hold a whole string in memory, and slow down badly on
        # long ones: a string is followed across chunks by the parity of its unescaped quotes
        # (quotes appear nowhere else in JSON), escapes removed at C speed.
        if self._escaped:
            data, self._escaped = data[1:], False
        if b"\\" in data:
            data = _ESCAPE.sub(b"", data)
            if data.endswith(b"\\"):
                data, self._escaped = data[:-1], True
        quotes = data.count(b'"')
        if quotes:
            self._in_string ^= quotes % 2 == 1
            self._string_run = len(data) - data.rfind(b'"') - 1 if self._in_string else 0
        elif self._in_string:
            self._string_run += len(data)
        if self._string_run > MAX_STRING_BYTES:
            raise _LongString(self.offset)

    def _count_digits(self, data: bytes) -> None:
        # A chunk (at most 4 KiB) is shorter than MAX_DIGITS: only a run over chunks can be longer.
        rest = data.lstrip(_DIGITS)
        run = self._run + len(data) - len(rest)
        if run > MAX_DIGITS:
            raise _LongNumber(self.offset - self._run)
        self._run = run if not rest else len(data) - len(data.rstrip(_DIGITS))


class _CountingReader(_GuardedReader):
    """A guarded reader that keeps its source's ``bytes_read`` (progress estimates)."""

    def __init__(self, source: RecordSource, raw: IO[bytes], offset: int, digits: bool) -> None:
        super().__init__(raw, offset, digits)
        self._source = source

    def read(self, size: int = -1) -> bytes:
        data = super().read(size)
        self._source.bytes_read = self.offset
        return data


def peak_depth(data: bytes) -> int:
    """The deepest nesting of brackets in ``data`` (brackets in strings count too)."""
    steps = map(_STEP.__getitem__, data.translate(None, _NOT_BRACKETS))
    return max(accumulate(steps, initial=0))


def _refuse_constant(name: str) -> Any:
    raise _Constant(name)


def _strict_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        keys = [key for key, _ in pairs]
        raise _DuplicateKey(repr(next(k for i, k in enumerate(keys) if k in keys[:i])))
    return obj


_DECODER = json.JSONDecoder(object_pairs_hook=_strict_pairs, parse_constant=_refuse_constant)


class _Overflow(ValueError):
    pass


def _finite_float(text: str) -> float:
    """A float as yajl reads it: one too big for a double is an overflow (ijson then reads the
    file again exactly and keeps a Decimal), never ``inf``."""
    number = float(text)
    if number - number != 0.0:
        raise _Overflow(text)
    return number


# What _FastArray reads with: plain dicts, a duplicate key raises, NaN/Infinity and numbers
# ijson would not give as the same float raise. Python's strict scanner refuses everything
# yajl refuses (control characters in strings, bad escapes, leading zeros, trailing commas...).
_FAST_DECODER = json.JSONDecoder(
    object_pairs_hook=_strict_pairs, parse_constant=_refuse_constant, parse_float=_finite_float
)
_CONSTANT_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|(-?Infinity|NaN)', re.S)


def read_json_text(data: bytes) -> Any:
    """One JSON text read by orjson where that is the strict read's result
    (:mod:`ferry.sources.quickjson`), else by the strict decoder (its verdict, its words);
    ValueError for a surrogate escape (the fast read hands those to ijson)."""
    found = quick_loads(data)
    if found is not UNSURE and not _SURROGATE_BYTES.search(data):
        return found
    text = data.decode("utf-8")
    if _SURROGATE.search(text):
        raise ValueError("a surrogate escape")
    return _FAST_DECODER.decode(text)


def _constant_at(text: str) -> str:
    """Line and column of the first NaN/Infinity outside strings."""
    pos = next(m.start(1) for m in _CONSTANT_TOKEN.finditer(text) if m.group(1))
    return f"line {text.count(chr(10), 0, pos) + 1}, column {pos - text.rfind(chr(10), 0, pos)}"


def diagnose_json(data: bytes) -> tuple[str, str] | None:
    """What is wrong with a JSON document and where (line and column), using stdlib json."""
    skip = 3 if data.startswith(BOM) else 0
    try:
        text = data[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not UTF-8 text (byte {exc.start + skip} cannot be decoded)", _HINT_UTF8
    if not text.strip():
        return "file is empty", "Give the file content or remove the source."
    try:
        json.loads(text, parse_constant=_refuse_constant)
    except _Constant as exc:
        return f"{exc} at {_constant_at(text)} is not valid JSON", _HINT_NAN
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        if exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string"):
            return f"the JSON ends too early at {where} (truncated?)", _HINT_CUT
        return f"not valid JSON at {where}: {exc.msg}", _HINT_FIX
    except RecursionError:
        return f"nested deeper than {MAX_DEPTH} levels", "Ferry does not read such documents."
    return None


def _yajl_problem(exc: BaseException, offset: int) -> tuple[str, str]:
    """What ijson's (yajl's) error says, for files too big to re-read for line and column."""
    raw = exc.args[0] if exc.args else ""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    first = (text.strip().splitlines() or ["parse error"])[0].rstrip(".")
    if "premature EOF" in first:
        return f"the JSON ends too early near byte {offset} (truncated?)", _HINT_CUT
    if "UTF8" in first:
        return f"not UTF-8 text (near byte {offset})", _HINT_UTF8
    if "trailing garbage" in first:
        return f"more data follows the JSON document near byte {offset}", _HINT_FIX
    return f"not valid JSON near byte {offset} ({first})", f"{_HINT_FIX} {_HINT_NAN}"


class _Fallback(Exception):
    """The fast reader cannot vouch for what follows: ijson reads on from the current record."""


_FAST_READ = 16 * CHUNK  # bytes decoded per refill of the fast reader
_READ_BUFFER = 1 << 20  # bytes per read from the file
_FAST_LIMIT = 8 * 1024 * 1024  # an element longer than this (in characters) is left to ijson
_MARGIN = 16  # a scan that stops this close to the end of the text may just need more text
_WS = re.compile(r"[ \t\n\r]*")
_COMMA = re.compile(r"[ \t\n\r]*,[ \t\n\r]*")
_CLOSE = re.compile(r"[ \t\n\r]*\][ \t\n\r]*")
_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE_BYTES = re.compile(rb"\\u[dD][89a-fA-F]")  # the same in the undecoded text
_LOW_SURROGATE = re.compile(r"\\u[dD][c-fC-F][0-9a-fA-F]{2}")


def _skip_ws(text: str, pos: int) -> int:
    """Where the JSON whitespace from ``pos`` on ends."""
    found = _WS.match(text, pos)
    assert found is not None  # the pattern matches the empty string
    return found.end()


class _FastArray:
    """The records of a top-level array, read with the stdlib's C scanner (``_json``).

    Reads through the same :class:`_GuardedReader` as ijson (4 KiB at a time, the same depth
    guard) and decodes a block of chunks at a time. A record is handed out only once the text
    up to the end of the block it ends in has been read as complete, valid elements: ijson,
    which parses chunk by chunk, would have handed it out too, with no error and no duplicate
    key noted before it. Anything else (a syntax error, a duplicate key, NaN, a float that
    overflows, a lone surrogate escape, an element over _FAST_LIMIT, bytes after the array)
    raises :class:`_Fallback`, and ijson reads the records not yet handed out as it always did.
    Python's json refuses all that yajl refuses (tests/core/test_json_fast.py compares both).
    """

    def __init__(self, reader: _GuardedReader) -> None:
        self._read = reader.read
        self.text = ""
        self.base = 0  # index of text[0] in the whole decoded document
        self.total = 0  # characters decoded so far
        self.ends: list[int] = []  # where the text of each block read ends (document index)
        self.eof = False
        self.cut = b""  # the first bytes of a character the last block ended in
        self.last = b""  # the last byte read
        self.checked = 0  # surrogate escapes are checked up to here (whole-document index)
        self.deferred = False  # the text after `checked` may hold part of an escape

    def _more(self, pos: int, size: int) -> None:
        """Drop the text before ``pos`` and read at least ``size`` more bytes.

        The bytes come in whole 4 KiB chunks, so the end of a block is the end of a chunk."""
        raw = [self.cut]
        got = 0
        try:
            while got < size:
                data = self._read(CHUNK)
                if not data:
                    self.eof = True
                    break
                raw.append(data)
                got += len(data)
            block = b"".join(raw)
            piece, used = utf_8_decode(block, "strict", self.eof)
        except Exception:  # not UTF-8, nested too deep, the file went away: ijson says how
            raise _Fallback from None
        self.cut = block[used:]
        self.base += pos
        self.text = self.text[pos:] + piece
        self.total += len(piece)
        self.ends.append(self.total)
        escape = b"\\u" in block or (self.last == b"\\" and block[:1] == b"u")
        self.last = block[-1:] or self.last
        if self.deferred or escape:
            self._check_surrogates()
        else:  # no escape starts in the new text; one may start in its last characters
            self.checked = max(self.checked, self.base + len(self.text) - 5)
            self.deferred = "\\" in self.text[self.checked - self.base :]

    def _check_surrogates(self) -> None:
        """yajl turns a lone surrogate escape into "?" or refuses it; json keeps it: hand over
        at the first surrogate escape that is not the first half of a pair."""
        text = self.text
        pos = max(0, self.checked - self.base)
        while (found := _SURROGATE.search(text, pos)) is not None:
            at = found.start()
            if at + 12 > len(text) and not self.eof:
                pos = at  # the second half may be in the next text: look again then
                break
            if text[at - 1 : at] == "\\" or text[at + 3] in "cdefCDEF":
                raise _Fallback  # a second half alone (or an escaped backslash before)
            if _LOW_SURROGATE.match(text, at + 6) is None:
                raise _Fallback
            pos = at + 12
        else:
            pos = max(pos, len(text) - 5)  # an escape cut after its first few characters
        self.checked = self.base + pos
        self.deferred = "\\" in text[pos:]

    def _release(self, ends: list[int], pos: int) -> int:
        """How many pending records ijson would have handed out by now: those that end in a
        chunk whose text lies wholly before ``pos`` (read and valid)."""
        done = self.base + pos
        chunk_ends = self.ends
        cut = 0
        while cut < len(chunk_ends) and chunk_ends[cut] < done:
            cut += 1
        if not cut:
            return 0
        last = chunk_ends[cut - 1]
        del chunk_ends[: cut - 1]
        count = 0
        while count < len(ends) and ends[count] <= last:
            count += 1
        return count

    def blocks(self) -> Iterator[list[Any]]:
        """The records, a list at a time (those handed out by one refill)."""
        scan: Any = make_scanner(_FAST_DECODER)  # type: ignore[arg-type]  # typeshed's stub is off
        comma, close = _COMMA.match, _CLOSE.match
        pending: list[Any] = []
        ends: list[int] = []  # where each pending record ends (whole-document index)
        reserve = 0  # text kept for the next element: at the end, reading more comes first
        self._more(0, _FAST_READ)
        pos = _skip_ws(self.text, 0)
        if self.text[pos : pos + 1] != "[":
            raise _Fallback
        pos = _skip_ws(self.text, pos + 1)
        text, base = self.text, self.base
        soft = len(text) + (1 if self.eof else -reserve)
        closed = close(text, pos) if text[pos : pos + 1] == "]" else None
        while closed is None:
            if pos < soft:
                try:
                    value, end = scan(text, pos)
                except StopIteration as exc:
                    stop: int = exc.value
                except json.JSONDecodeError as exc:
                    stop = len(text) if exc.msg.startswith("Unterminated string") else exc.pos
                except Exception:  # a duplicate key, NaN, an overflow, a RecursionError...
                    raise _Fallback from None
                else:
                    after = comma(text, end)
                    if after is not None:
                        pending.append(value)
                        ends.append(base + end)
                        pos = after.end()
                        continue
                    closed = close(text, end)
                    if closed is not None:
                        pending.append(value)
                        ends.append(base + end)
                        break
                    stop = _skip_ws(text, end)  # whitespace up to the end: more may follow
                # Stopped short: at the end of the text read so far, or a real problem.
                if self.eof or stop < len(text) - _MARGIN or len(text) - pos > _FAST_LIMIT:
                    raise _Fallback
            if len(ends) > 1:  # the longest element so far, twice: its successor fits, mostly
                reserve = min(max(reserve, 2 * max(map(sub, ends[1:], ends))), _FAST_READ)
            count = self._release(ends, pos)
            if count:
                yield pending[:count]
                del pending[:count], ends[:count]
            self._more(pos, max(_FAST_READ, len(text) - pos))
            text, base = self.text, self.base
            pos = _skip_ws(text, 0)
            soft = len(text) + (1 if self.eof else -reserve)
        # After the array: only whitespace up to the end of the file.
        pos = closed.end()
        while pos == len(self.text) and not self.eof:
            self._more(pos, _FAST_READ)
            pos = _skip_ws(self.text, 0)
        if pos != len(self.text) or not self.eof:
            raise _Fallback
        if pending:
            yield pending


_SCALAR_EVENTS = {"string": "a string", "integer": "a number", "double": "a number",
                  "number": "a number", "boolean": "a boolean", "null": "null"}  # fmt: skip
_PARSE_ERRORS = (ijson.JSONError, SystemError, _TooDeep, _LongNumber, _LongString)
#: what a parse through :func:`guarded` may raise for a bad or too deep document
PARSE_ERRORS = _PARSE_ERRORS


def guarded(raw: IO[bytes], offset: int = 0) -> _GuardedReader:
    """``raw`` as every JSON parse should read it: 4 KiB at a time (pass ``buf_size=CHUNK``
    to ijson), refusing documents nested deeper than MAX_DEPTH (one of PARSE_ERRORS)."""
    return _GuardedReader(raw, offset)


class JsonSource(RecordSource):
    """A JSON document: an array of records, an object keyed by id, or a settings map.

    ``root`` (dotted) picks the collection inside a larger document. Nested objects stay JSON
    values or flatten to ``a_b`` columns; lists of objects become child tables named
    ``source.field`` (or stay JSON values with ``nested_lists = "json"``).
    """

    capabilities = SourceCapabilities(parses_in_python=True, record_lines=True, maps_in_worker=True)

    def __init__(self, spec: SourceSpec, base_dir: Path) -> None:
        super().__init__(spec, base_dir)
        self._root = spec.root or ""
        self._label = f"$.{self._root}" if self._root else "$"
        self._shape = ""
        self._exact = False  # set once a number overflowed yajl's 64-bit fast path
        self._plain: bytes | None = None  # a commented file's JSON (comments = true)

    def where(self, unit: Any) -> str:
        """``$[3]`` for a record, ``$["job-1"]`` for an entry, ``$`` for the whole root."""
        if unit is None:
            return self._label
        if isinstance(unit, int):
            return f"{self._label}[{unit}]"
        return f"{self._label}[{json.dumps(unit, ensure_ascii=False)}]"

    @contextmanager
    def _open(self, digits: bool = False) -> Iterator[_GuardedReader]:
        if self.spec.comments:  # the JSON it means, read as any JSON file's bytes
            yield _CountingReader(self, io.BytesIO(self._uncommented()), 0, digits)
            return
        try:
            # Whole MiB reads: each read from disk lets the mapping thread take the GIL, and
            # getting it back waits for its switch interval; 4 KiB reads starved the reader.
            raw = self.path.open("rb", buffering=_READ_BUFFER)
        except OSError as exc:
            raise file_error(self.path, exc) from None
        with raw:
            head = raw.read(4)
            if not head:
                raise self.fail("file is empty", "Give the file content or remove the source.")
            if head.startswith((b"\xff\xfe", b"\xfe\xff")):
                raise self.fail("is UTF-16 text; JSON must be UTF-8", _HINT_UTF8)
            start = 3 if head.startswith(BOM) else 0  # a BOM is not JSON, but editors add it
            raw.seek(start)
            yield _CountingReader(self, raw, start, digits)

    def _uncommented(self) -> bytes:
        """The file's JSON without its comments (``comments = true``), read once."""
        if self._plain is None:
            try:
                self._plain = without_comments(self.path)
            except OSError as exc:
                raise file_error(self.path, exc) from None
            except UnicodeDecodeError:
                raise self.fail("is not UTF-8 text", _HINT_UTF8) from None
            except (CommentedJsonError, RecursionError) as exc:
                raise self.fail(
                    f"not JSON even with comments allowed: {exc}",
                    "Fix the file at that line, or take the source out of the plan.",
                ) from None
        return self._plain

    def _error(self, exc: BaseException, reader: _GuardedReader | None) -> SourceError:
        """The SourceError for a failure while ijson reads (ijson may wrap it in SystemError)."""
        cause: BaseException | None = exc
        while cause is not None and not isinstance(cause, _TooDeep | _LongNumber | _LongString):
            cause = cause.__cause__ or cause.__context__
        if isinstance(cause, _LongString):
            return self.fail(
                f"a string longer than {mib(MAX_STRING_BYTES)} (Ferry's limit for one key or "
                f"value) at byte {cause.args[0]}",
                "Check it is the right file; a value this large belongs in a file of its own.",
            )
        if isinstance(cause, _TooDeep):
            return self.fail(
                f"nested deeper than {MAX_DEPTH} levels at byte {cause.args[0]}",
                "Ferry does not read documents nested this deep; check it is the right file.",
            )
        if isinstance(cause, _LongNumber):
            return self.fail(
                f"more than {MAX_DIGITS} digits in a row at byte {cause.args[0]}",
                "Ferry does not read numbers that long; write such a value as a JSON string.",
            )
        found = None
        try:
            if self.path.stat().st_size <= _REPARSE_LIMIT:
                found = diagnose_json(self.path.read_bytes())
        except OSError:
            pass
        return self.fail(*(found or _yajl_problem(exc, reader.offset if reader else 0)))

    def line_records(self) -> bool:
        """Whether the records are an array at the top of the file, so that a file laid out
        one record per line can be read a line at a time (:mod:`ferry.load.jsonlines`)."""
        # Not with select/unwrap: a line of another kind gives no row, and a line's print
        # would not be its row's. The line paths (delta by line, worker processes) assume one
        # row per record line; such a source is read whole instead (correctness first).
        if self.spec.select or self.spec.unwrap or self.spec.comments:
            return False  # (a commented file's lines are not its records' JSON)
        return not self._root and self._layout() == "records"

    def rows_of_lines(self, texts: list[bytes], key: str, batch_size: int) -> list[Any]:
        """The root table's rows of records each given as its own JSON text (one object
        holding ``key``), as a read of the whole file gives them. Raises ValueError for
        anything that read would take otherwise (not one object, a child table, a surrogate
        escape the fast read hands to ijson)."""
        records = []
        for raw in texts:
            record = read_json_text(raw)
            if type(record) is not dict or key not in record:
                raise ValueError(f"not an object holding {key!r}")
            records.append(record)
        return self._shaped(records, key, batch_size)

    def rows_of_records(self, texts: list[bytes], key: str, batch_size: int) -> list[Any]:
        """:meth:`rows_of_lines` for consecutive records of the file's array, decoded as one
        array (one decoder call, not one per record): joined by commas, the texts are that
        stretch of the array. Raises ValueError where :meth:`rows_of_lines` would, and when
        the texts do not give one record each."""
        if not texts:
            return []
        records = read_json_text(b"".join((b"[", b",".join(texts), b"]")))
        if len(records) != len(texts):
            raise ValueError("a line that is not one record")
        for record in records:
            if type(record) is not dict or key not in record:
                raise ValueError(f"not an object holding {key!r}")
        return self._shaped(records, key, batch_size)

    def _shaped(self, records: list[Any], key: str, batch_size: int) -> list[Any]:
        """The rows of ``records`` (objects of the root table), shaped as the read shapes
        them; ValueError when they hold child tables."""
        shaper = Shaper(self, batch_size, key)
        rows: list[Any] = []
        for batch in [*shaper.blocks([records]), *shaper.flush(final=True)]:
            if batch.table != self.spec.name or shaper.mode != "records":
                raise ValueError("records that hold child tables")
            rows += batch.rows
        return rows

    def _root_kind(self) -> str:
        """'array' or 'object': what the root holds. Reads only up to the root's start."""
        top_keys: list[str] = []
        reader: _GuardedReader | None = None
        try:
            with self._open(digits=True) as reader:
                for prefix, event, value in ijson.parse(reader, use_float=False, buf_size=CHUNK):
                    if prefix == self._root and event != "map_key":
                        if event in ("start_array", "start_map"):
                            return "array" if event == "start_array" else "object"
                        raise self.fail(
                            f"{self._label} holds {_SCALAR_EVENTS.get(event, event)}, "
                            "not an array or object",
                            "Point root at the list or object of records.",
                        )
                    if prefix == "" and event == "map_key" and len(top_keys) < 10:
                        top_keys.append(value)
        except _PARSE_ERRORS as exc:
            raise self._error(exc, reader) from None
        keys = ", ".join(repr(k) for k in top_keys)
        raise self.fail(
            f"has no {self._root!r} (the source's root)",
            f"Set root to one of the top-level keys: {keys}." if keys else "Remove root.",
        )

    def _layout(self) -> str:
        """The shape read: records, keyed or kv (auto: decided once from the document)."""
        if self._shape:
            return self._shape
        kind = self._root_kind()
        shape = self.spec.shape
        if shape != "auto":
            wanted = "array" if shape == "records" else "object"
            if kind != wanted:
                raise self.fail(
                    f"shape {shape!r} needs an {wanted} at {self._label}, but it holds an {kind}",
                    "Set shape = 'auto', or the shape that matches the file.",
                )
        elif kind == "array":
            shape = "records"
        else:
            reader: _GuardedReader | None = None
            try:
                with self._open(digits=True) as reader:
                    pairs = ijson.kvitems(reader, self._root, use_float=False, buf_size=CHUNK)
                    first = [value for _, value in islice(pairs, _DETECT)]
            except _PARSE_ERRORS as exc:
                raise self._error(exc, reader) from None
            shape = "keyed" if first and all(type(v) in DICTS for v in first) else "kv"
        self._shape = shape
        return shape

    def _prefix(self, kv: bool) -> str:
        return self._root if kv else (f"{self._root}.item" if self._root else "item")

    def duplicate(self) -> SourceError:
        """Which record holds the duplicate key: ijson builds ahead, so the flag cannot say.
        Read again with dicts that mark themselves, and find the first marked one."""
        key, parse_flags.duplicate = parse_flags.duplicate, None
        where, kv = self._label, self._shape != "records"
        try:
            with self._open(digits=True) as reader:
                parse = ijson.kvitems if kv else ijson.items
                items = parse(reader, self._prefix(kv), map_type=_MarkingDict, use_float=False)
                for number, item in enumerate(items):
                    found = _marked(item)
                    if found is not None:
                        key, where = found, self.where(item[0] if kv else number)
                        break
        except (SourceError, *_PARSE_ERRORS):
            pass  # the file changed or broke: report what the first read saw
        return self.fail(f"duplicate key {key!r} in {where}", HINT_DUP)

    def _run(self, batch_size: int, limit: int | None) -> Iterator[Batch]:
        shape = self._layout()
        kv = shape != "records"
        default = "key" if shape == "kv" else "id"
        shaper = Shaper(self, batch_size, self.spec.key_column or default)
        if shaper.pick is not None:  # a sample counts picked records: the shaper stops
            shaper.limit, limit = limit, None
        if not kv and not self._root and limit is None:  # the common case: see _FastArray
            try:
                with self._open() as handle:
                    parse_flags.duplicate = None  # as for ijson: nothing noted before counts
                    yield from shaper.blocks(_FastArray(handle).blocks())
                yield from shaper.flush(final=True)
                return
            except _Fallback:
                pass  # ijson reads on from the first record not handed out
        prefix, parse = self._prefix(kv), ijson.kvitems if kv else ijson.items
        while True:
            exact = self._exact
            reader: _GuardedReader | None = None
            try:
                with self._open(digits=exact) as reader:
                    parse_flags.duplicate = None
                    items = parse(reader, prefix, map_type=StrictDict, use_float=not exact,
                                  buf_size=CHUNK)  # fmt: skip
                    if shaper.count or limit is not None:  # a restart skips what was read
                        stop = None if limit is None else max(limit, shaper.count)
                        items = islice(items, shaper.count, stop)
                    if kv:
                        yield from shaper.entries(items, kv=shape == "kv")
                    else:
                        yield from shaper.records(items)
                break
            except _PARSE_ERRORS as exc:
                parse_flags.duplicate = None  # a key noted in an item that never completed
                if exact or not any(o in str(exc) for o in _OVERFLOW):
                    raise self._error(exc, reader) from None
                # yajl's fast numbers stop at 64 bits; exact mode gives big ints and Decimals
                # (made floats when shaped). Read again, skipping the records already handed out.
                self._exact = True
        yield from shaper.flush(final=True)


def _bounded_lines(handle: IO[bytes]) -> Iterator[bytes | None]:
    """The file's lines (newline kept), each read up to MAX_JSONL_LINE_BYTES: a longer line
    yields None instead of being read whole (a 2 GB line without a newline stays on disk)."""
    while line := handle.readline(MAX_JSONL_LINE_BYTES + 1):
        if len(line) > MAX_JSONL_LINE_BYTES and not (
            len(line) == MAX_JSONL_LINE_BYTES + 1 and line.endswith(b"\n")
        ):
            yield None
            return
        yield line


class JsonLinesSource(RecordSource):
    """JSON Lines: one object per line, blank lines skipped, read like an array of records."""

    def __init__(self, spec: SourceSpec, base_dir: Path) -> None:
        super().__init__(spec, base_dir)
        self._line = 0

    def where(self, unit: Any) -> str:
        """The line of the record being read."""
        return f"line {self._line}"

    def _run(self, batch_size: int, limit: int | None) -> Iterator[Batch]:
        shaper = Shaper(self, batch_size, self.spec.key_column or "id")
        if shaper.pick is not None:  # a sample counts picked records: the shaper stops
            shaper.limit, limit = limit, None
        try:
            handle = self.path.open("rb")
        except OSError as exc:
            raise file_error(self.path, exc) from None
        with handle:
            records: Iterator[Any] = self._records(handle)
            log = NedbLog()
            if self.spec.format == "nedb":  # the documents the log leaves, as NeDB loads it
                records = nedb_documents(records, self.fail, lambda: self.where(None), log)
            yield from shaper.records(islice(records, limit), scalars=False, plain=True)
            notice = unkeyed_notice(self.path.name, log)
            if notice is not None and notice not in self.notices:  # (described, then read)
                self.notices.append(notice)
        yield from shaper.flush(final=True)

    def _records(self, handle: IO[bytes]) -> Iterator[Any]:
        decode, offset = _DECODER.decode, 0
        for number, line in enumerate(_bounded_lines(handle), 1):
            if line is None:
                raise self.fail(
                    f"line {number}: longer than {mib(MAX_JSONL_LINE_BYTES)}, Ferry's limit for "
                    "one JSON Lines record",
                    "Check it is the right file (one JSON object per line); a record this "
                    "large belongs in a database.",
                )
            start, offset = offset, offset + len(line)
            self.bytes_read = offset
            if number == 1 and line.startswith(BOM):
                line, start = line[3:], 3
            if not line or line.isspace():
                continue
            self._line = number
            if line.count(b"[") + line.count(b"{") > MAX_DEPTH and peak_depth(line) > MAX_DEPTH:
                raise self.fail(
                    f"line {number}: nested deeper than {MAX_DEPTH} levels",
                    "Ferry does not read records nested this deep; check it is the right file.",
                )
            try:
                record = decode(line.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                if _unfinished(line, exc):
                    notice = _unfinished_notice(self.path.name, number)
                    if notice not in self.notices:  # (describing the file read it too)
                        self.notices.append(notice)
                    return
                if isinstance(exc, json.JSONDecodeError):
                    raise self.fail(
                        f"line {number}, column {exc.colno}: not valid JSON ({exc.msg})",
                        "Each line must hold one complete JSON object.",
                    ) from None
                problem = f"not UTF-8 text (byte {start + exc.start} cannot be decoded)"
                raise self.fail(f"line {number}: {problem}", _HINT_UTF8) from None
            except _Constant as exc:
                where = _constant_at(line.decode("utf-8")).replace("line 1", f"line {number}")
                raise self.fail(f"{exc} at {where} is not valid JSON", _HINT_NAN) from None
            except _DuplicateKey as exc:
                raise self.fail(f"line {number}: duplicate key {exc}", HINT_DUP) from None
            except RecursionError:
                raise self.fail(f"line {number}: nested too deeply", "Flatten the data.") from None
            except ValueError:  # an integer longer than Python reads (sys.int_info)
                raise self.fail(
                    f"line {number}: a number with more than {MAX_DIGITS} digits",
                    "Ferry does not read numbers that long; write such a value as a JSON string.",
                ) from None
            yield record


def _unfinished(line: bytes, exc: UnicodeDecodeError | json.JSONDecodeError) -> bool:
    """A last line with no newline that is valid up to where it stops: a record the app is
    still appending (or was appending when it stopped), not a broken one."""
    if line.endswith(b"\n"):
        return False
    if isinstance(exc, UnicodeDecodeError):  # a character cut short at the end
        return exc.end == len(line) and exc.reason == "unexpected end of data"
    # (an unterminated string is reported where it starts)
    return exc.pos >= len(exc.doc.rstrip()) or exc.msg.startswith("Unterminated string")


def _unfinished_notice(name: str, number: int) -> str:
    return (
        f"{name}: line {number} is not finished (no newline, the JSON stops short): not read "
        "this time; an app still appending to the file? The next run reads it once it is "
        "complete."
    )
