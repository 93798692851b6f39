"""The one JSON parser of every endpoint: objects only, size and depth checked first.

``JSONObjectParser`` is ``REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]`` and is named by
every view that sets ``parser_classes``; the delivery-receipt hook, a plain Django view,
calls ``parse_json_object`` for the same checks (RELIABILITY 71). This module must not
import ``rest_framework.views``: DRF reads the parser setting when that module loads.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import IO, Any

import numpy as np
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils import json

NOT_AN_OBJECT_MESSAGE = "Send a JSON object."

# The depth scan, on bytes: drop escaped backslashes, then escaped quotes, so every quote
# left opens or closes a string; drop strings; keep only brackets, "{" and "}" read as
# "[" and "]"; then the running depth is a cumulative sum. Every step is C (bytes, re,
# numpy): no Python loop per byte, so a 14 MB body is scanned in well under a second.
_STRING = re.compile(rb'"[^"]*"')
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))
_CURLY_AS_SQUARE = bytes.maketrans(b"{}", b"[]")
#: "[" is 0x5B and "]" 0x5D: 0x5C minus a bracket is its step, +1 or -1.
_MIDPOINT = 0x5C
#: Brackets summed per numpy call (bounds the scan's memory at 8 MiB of int64).
_CHUNK = 1 << 20


def json_depth(data: bytes, *, limit: int) -> int:
    """Return how deep the arrays and objects of the JSON text ``data`` nest, at most ``limit + 1``.

    ``data`` is UTF-8 JSON text (its strings may hold any bracket, quote or escape).
    ``{}`` and ``[1]`` are depth 1, ``{"a": [2]}`` depth 2, a bare scalar 0. For valid
    JSON the number is exact; for other text it is at least the depth ``json.loads``
    would reach before refusing it (an unclosed ``[`` nests too). Nothing is decoded,
    so a body nested 100,000 deep costs one linear scan and never reaches
    ``json.loads``, whose recursion it would exhaust (RELIABILITY 71). Stops at the
    first ``_CHUNK`` of brackets that goes deeper than ``limit``.
    """
    text = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    brackets = np.frombuffer(
        _STRING.sub(b"", text).translate(_CURLY_AS_SQUARE, _NOT_BRACKETS), dtype=np.uint8
    )
    depth = deepest = 0
    for start in range(0, len(brackets), _CHUNK):
        steps = _MIDPOINT - brackets[start : start + _CHUNK].astype(np.int64)
        levels = depth + np.cumsum(steps)
        deepest = max(deepest, int(levels.max()))
        if deepest > limit:
            return limit + 1
        depth = int(levels[-1])
    return deepest


class BodyTooLarge(APIException):
    """A JSON body over its endpoint's own cap (``max_json_bytes``): 413."""

    status_code = 413
    default_detail = "Request body too large."
    default_code = "too_large"


def parse_json_object(
    data: bytes, *, encoding: str = "utf-8", strict: bool = True, max_bytes: int | None = None
) -> dict[str, Any]:
    """Return the JSON object in the request body ``data`` (``encoding``: its charset).

    Checked before parsing, in this order: the size cap Django applies to every body
    (``DATA_UPLOAD_MAX_MEMORY_SIZE``), the nesting depth (``BOOTHSITE_JSON_MAX_DEPTH``,
    default 32 levels; a linear scan, so a too-deep body is a 400 whatever its size),
    then ``max_bytes`` when given, for endpoints whose bodies are always small, so
    ``json.loads`` never spends long on them. ``strict`` refuses ``NaN`` and
    ``Infinity`` as DRF does.

    :raises BodyTooLarge: (413) over ``max_bytes``.
    :raises RequestDataTooBig: over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (the API answers 413).
    :raises ParseError: (400) for a body that is not JSON, is nested too deeply, or whose
        top-level value is not an object (``{"detail": "Send a JSON object."}``).
    """
    limit: int | None = getattr(settings, "DATA_UPLOAD_MAX_MEMORY_SIZE", None)
    if limit is not None and len(data) > limit:
        msg = "Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE."
        raise RequestDataTooBig(msg)
    try:
        text = data.decode(encoding)
    except (LookupError, UnicodeError) as exc:
        msg = f"JSON parse error - {exc}"
        raise ParseError(msg) from exc
    utf8 = data if encoding.lower().replace("-", "") in {"utf8", "ascii"} else text.encode()
    max_depth = int(settings.BOOTHSITE_JSON_MAX_DEPTH)
    if json_depth(utf8, limit=max_depth) > max_depth:
        msg = f"JSON nested too deeply (at most {max_depth} levels)."
        raise ParseError(msg)
    if max_bytes is not None and len(data) > max_bytes:
        raise BodyTooLarge(f"Request body too large (at most {max_bytes} bytes).")
    try:
        value = json.loads(text, parse_constant=json.strict_constant if strict else None)
    except ValueError as exc:
        msg = f"JSON parse error - {exc}"
        raise ParseError(msg) from exc
    if not isinstance(value, dict):
        raise ParseError(NOT_AN_OBJECT_MESSAGE)
    return value


class JSONObjectParser(JSONParser):
    """DRF's JSON parser, refusing what would crash or mislead a view (RELIABILITY 71).

    Every JSON endpoint takes an object: a top-level array, string, number or null is
    a 400 ``{"detail": "Send a JSON object."}``. The size cap and the nesting depth are
    checked before the body is parsed (``parse_json_object``), so JSON nested 100,000
    deep is a 400, not a RecursionError. Subclassing JSONParser keeps DRF handing it the
    body through ``request.body``, where Django applies ``DATA_UPLOAD_MAX_MEMORY_SIZE``.
    A view may set a smaller cap, ``max_json_bytes`` (bytes), for bodies that are always
    small (pairing): over it is a 413.
    """

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        context = parser_context or {}
        encoding = str(context.get("encoding", settings.DEFAULT_CHARSET))
        max_bytes = getattr(context.get("view"), "max_json_bytes", None)
        return parse_json_object(
            stream.read(), encoding=encoding, strict=self.strict, max_bytes=max_bytes
        )
