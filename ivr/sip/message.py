"""SIP message model, parser and serializer (RFC 3261 section 7, 20, 25).

Pure functions over bytes: `parse_message` turns one datagram (or one framed TCP message) into a
`Request` or `Response`; `Message.serialize` gives the bytes back with a correct Content-Length.
`check_request` applies the semantic checks a UAS makes before anything else and says which error
response (400/414/416/505) a request deserves. `StreamFramer` cuts a TCP byte stream into messages.

Limits: a message is at most `MAX_MESSAGE_SIZE` octets (a larger request is answered 513), has at
most `MAX_HEADERS` header fields and no line longer than `MAX_LINE` octets (400, or 414 for the
Request-Line).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Iterator

MAX_MESSAGE_SIZE = 65535                # octets in one datagram or framed stream message
MAX_HEADERS = 256                       # header fields in one message
MAX_LINE = 8192                         # octets in one (unfolded) header field or the start line


class SipError(Exception):
    """Base of the SIP core's errors."""


class SipParseError(SipError):
    """The bytes are not a SIP message at all: drop them."""


class SipMessageTooLarge(SipParseError):
    """More than `MAX_MESSAGE_SIZE` octets: `head` is the header section when it fits, to answer 513."""

    def __init__(self, head: bytes | None) -> None:
        super().__init__("message too large")
        self.head = head


class SipFramingError(SipError):
    """A TCP stream cannot be framed (no or bad Content-Length, oversized): close it."""


class StreamMessageTooLarge(SipFramingError):
    """A framed stream message would exceed the size limit; `head` is its header section."""

    def __init__(self, head: bytes) -> None:
        super().__init__("message too large")
        self.head = head


@dataclass
class Invalid:
    """Why a parsed request must be refused, and with which status."""

    status: int
    reason: str


COMPACT_FORMS = {
    "a": "Accept-Contact", "b": "Referred-By", "c": "Content-Type", "d": "Request-Disposition",
    "e": "Content-Encoding", "f": "From", "i": "Call-ID", "j": "Reject-Contact", "k": "Supported",
    "l": "Content-Length", "m": "Contact", "n": "Identity-Info", "o": "Event", "r": "Refer-To",
    "s": "Subject", "t": "To", "u": "Allow-Events", "v": "Via", "x": "Session-Expires", "y": "Identity",
}

_CANONICAL = {name.lower(): name for name in (
    "Accept", "Accept-Encoding", "Accept-Language", "Alert-Info", "Allow", "Authentication-Info",
    "Authorization", "Call-ID", "Call-Info", "Contact", "Content-Disposition", "Content-Encoding",
    "Content-Language", "Content-Length", "Content-Type", "CSeq", "Date", "Error-Info", "Expires",
    "From", "In-Reply-To", "Max-Forwards", "Min-Expires", "MIME-Version", "Organization", "Priority",
    "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Require", "Record-Route", "Reply-To", "Require",
    "Retry-After", "Route", "Server", "Subject", "Supported", "Timestamp", "To", "Unsupported",
    "User-Agent", "Via", "Warning", "WWW-Authenticate", "Event", "Refer-To", "Referred-By",
    "Session-Expires", "Min-SE", "Allow-Events", "Accept-Contact", "Reject-Contact",
    "Request-Disposition", "Identity", "Identity-Info", "P-Asserted-Identity", "Privacy", "RSeq", "RAck",
)}

# Headers whose values may be comma-separated lists (RFC 3261 7.3.1); others (auth, dates) may not.
_LIST_HEADERS = frozenset(name.lower() for name in (
    "Via", "Route", "Record-Route", "Contact", "Allow", "Supported", "Require", "Proxy-Require",
    "Unsupported", "Accept", "Accept-Encoding", "Accept-Language", "Allow-Events", "Content-Encoding",
    "Content-Language", "In-Reply-To", "Alert-Info", "Call-Info", "Error-Info", "Warning",
    "P-Asserted-Identity",
))

REASONS = {
    100: "Trying", 180: "Ringing", 181: "Call Is Being Forwarded", 182: "Queued", 183: "Session Progress",
    200: "OK", 202: "Accepted", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
    404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable", 407: "Proxy Authentication Required",
    408: "Request Timeout", 413: "Request Entity Too Large", 414: "Request-URI Too Long",
    415: "Unsupported Media Type",
    416: "Unsupported URI Scheme", 420: "Bad Extension", 423: "Interval Too Brief",
    480: "Temporarily Unavailable", 481: "Call/Transaction Does Not Exist", 482: "Loop Detected",
    483: "Too Many Hops", 484: "Address Incomplete", 486: "Busy Here", 487: "Request Terminated",
    488: "Not Acceptable Here", 491: "Request Pending", 500: "Server Internal Error",
    501: "Not Implemented", 503: "Service Unavailable", 504: "Server Time-out",
    505: "Version Not Supported", 513: "Message Too Large", 603: "Decline",
}

_TOKEN_CHARS = r"A-Za-z0-9.!%*_+`'~\-"
_TOKEN = re.compile(rf"^[{_TOKEN_CHARS}]+$")
_DIGITS = re.compile(r"^[0-9]+$")                                 # ASCII only: int() refuses "²"
# An unquoted display name is tokens and LWS; we also let non-ASCII letters through, but no separators.
_UNQUOTED_DISPLAY = re.compile(r'^[^()<>@,;:\\"/\[\]?={}]*$')
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*$")             # RFC 3986 scheme
_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.\-]+)$")  # hostname, IPv4 or IPv6 reference
SUPPORTED_SCHEMES = ("sip", "sips", "tel")


def canonical_name(name: str) -> str:
    """Full, conventionally capitalised header name (compact forms expanded)."""
    lower = name.strip().lower()
    if len(lower) == 1 and lower in COMPACT_FORMS:
        return COMPACT_FORMS[lower]
    return _CANONICAL.get(lower, name.strip())


def split_list(value: str) -> list[str]:
    """Split a comma-separated header value, respecting quotes, escapes and <...>."""
    parts: list[str] = []
    depth = 0
    quoted = False
    escaped = False
    start = 0
    for i, ch in enumerate(value):
        if escaped:
            escaped = False
        elif quoted:
            if ch == "\\":
                escaped = True
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch == "<":
            depth += 1
        elif ch == ">":
            depth = max(0, depth - 1)
        elif ch == "," and depth == 0:
            parts.append(value[start:i].strip())
            start = i + 1
    parts.append(value[start:].strip())
    return [p for p in parts if p]


class Headers:
    """Ordered, case-insensitive multi-map of header fields, compact names expanded."""

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items: list[tuple[str, str]] = [(canonical_name(n), v) for n, v in items]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, name: str) -> bool:
        key = canonical_name(name).lower()
        return any(n.lower() == key for n, _ in self._items)

    def get(self, name: str, default: str | None = None) -> str | None:
        """First value of `name` (the whole field line for list headers)."""
        key = canonical_name(name).lower()
        for n, v in self._items:
            if n.lower() == key:
                return v
        return default

    def get_all(self, name: str) -> list[str]:
        """Every value of `name`, list headers split at top-level commas, in order."""
        key = canonical_name(name).lower()
        values: list[str] = []
        for n, v in self._items:
            if n.lower() == key:
                values.extend(split_list(v) if key in _LIST_HEADERS else [v])
        return values

    def add(self, name: str, value: str) -> None:
        self._items.append((canonical_name(name), value))

    def prepend(self, name: str, value: str) -> None:
        self._items.insert(0, (canonical_name(name), value))

    def set(self, name: str, value: str) -> None:
        """Replace every field of `name` with one field (kept at the first one's place)."""
        canon = canonical_name(name)
        key = canon.lower()
        out: list[tuple[str, str]] = []
        placed = False
        for n, v in self._items:
            if n.lower() == key:
                if not placed:
                    out.append((canon, value))
                    placed = True
            else:
                out.append((n, v))
        if not placed:
            out.append((canon, value))
        self._items = out

    def remove(self, name: str) -> None:
        key = canonical_name(name).lower()
        self._items = [(n, v) for n, v in self._items if n.lower() != key]

    def copy(self) -> "Headers":
        return Headers(self._items)


# --- structured header values ------------------------------------------------------------------

@dataclass
class SipUri:
    """A sip:/sips:/tel: URI, split into its parts."""

    scheme: str
    user: str | None
    host: str
    port: int | None = None
    password: str | None = None
    params: dict[str, str | None] = field(default_factory=dict)
    headers: str | None = None

    def __str__(self) -> str:
        if self.scheme == "tel":
            out = f"tel:{self.host}"
        else:
            userinfo = ""
            if self.user is not None:
                userinfo = self.user + (f":{self.password}" if self.password is not None else "") + "@"
            out = f"{self.scheme}:{userinfo}{self.host}" + (f":{self.port}" if self.port else "")
        out += "".join(f";{k}" if v is None else f";{k}={v}" for k, v in self.params.items())
        return out + (f"?{self.headers}" if self.headers else "")


def _parse_params(text: str) -> dict[str, str | None]:
    params: dict[str, str | None] = {}
    for part in _split_outside_quotes(text, ";"):
        part = part.strip()
        if not part:
            continue
        if "=" in part:
            k, v = part.split("=", 1)
            params[k.strip().lower()] = v.strip()
        else:
            params[part.lower()] = None
    return params


def _split_outside_quotes(text: str, sep: str) -> list[str]:
    parts, quoted, escaped, start = [], False, False, 0
    for i, ch in enumerate(text):
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == sep and not quoted:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def parse_uri(text: str) -> SipUri:
    """Parse a SIP, SIPS or tel URI; raises SipParseError when it is not one.

    The user part may hold '?', ';' and ':' (RFC 3261 25.1 user-unreserved), so it ends at the last
    '@'; the host part carries ';'-parameters, then '?'-headers.
    """
    text = text.strip()
    scheme, sep, rest = text.partition(":")
    scheme = scheme.lower()
    if not sep or scheme not in SUPPORTED_SCHEMES:
        raise SipParseError(f"unsupported URI {text[:80]!r}")
    if scheme == "tel":
        number, _, params = rest.partition(";")
        return SipUri("tel", None, number, params=_parse_params(params))
    user: str | None = None
    password: str | None = None
    if "@" in rest:
        userinfo, _, rest = rest.rpartition("@")
        user, colon, pw = userinfo.partition(":")
        password = pw if colon else None
    rest, _, headers = rest.partition("?")
    hostport, _, params = rest.partition(";")
    host, port = _split_hostport(hostport)
    if not _HOST.match(host):
        raise SipParseError(f"bad host in URI {text[:80]!r}")
    return SipUri(scheme, user, host, port, password, _parse_params(params), headers or None)


def _split_hostport(hostport: str) -> tuple[str, int | None]:
    hostport = hostport.strip()
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            raise SipParseError(f"bad IPv6 reference {hostport!r}")
        host, rest = hostport[: end + 1], hostport[end + 1:]
        port_text = rest[1:] if rest.startswith(":") else ""
        if rest and not rest.startswith(":"):
            raise SipParseError(f"bad host {hostport!r}")
    else:
        host, _, port_text = hostport.partition(":")
    host, port_text = host.strip(), port_text.strip()
    if port_text:
        if not _DIGITS.match(port_text) or not 0 < int(port_text) < 65536:
            raise SipParseError(f"bad port in {hostport!r}")
        return host.lower(), int(port_text)
    return host.lower(), None


@dataclass
class NameAddr:
    """`"Display" <uri>;params` or `uri;params` (From, To, Contact, Route...)."""

    display: str | None
    uri: str
    params: dict[str, str | None] = field(default_factory=dict)

    @property
    def tag(self) -> str | None:
        return self.params.get("tag")

    def parsed_uri(self) -> SipUri:
        return parse_uri(self.uri)

    def __str__(self) -> str:
        escaped = (self.display or "").replace("\\", "\\\\").replace('"', '\\"')
        display = f'"{escaped}" ' if self.display else ""
        params = "".join(f";{k}" if v is None else f";{k}={v}" for k, v in self.params.items())
        return f"{display}<{self.uri}>{params}"


def parse_name_addr(text: str) -> NameAddr:
    """Parse a name-addr or addr-spec with header parameters; raises SipParseError."""
    text = text.strip()
    display: str | None = None
    if text.startswith('"'):
        i, escaped = 1, False
        while i < len(text):
            ch = text[i]
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                break
            i += 1
        else:
            raise SipParseError(f"unterminated quoted display name in {text!r}")
        display = re.sub(r"\\(.)", r"\1", text[1:i])
        text = text[i + 1:].strip()
    lt = text.find("<")
    if lt >= 0:
        gt = text.find(">", lt)
        if gt < 0:
            raise SipParseError(f"missing '>' in {text!r}")
        if display is None and text[:lt].strip():
            display = text[:lt].strip()
            if not _UNQUOTED_DISPLAY.match(display):
                raise SipParseError(f"unquoted display name with separators in {text[:80]!r}")
        uri = text[lt + 1:gt].strip()
        params = _parse_params(text[gt + 1:].lstrip().removeprefix(";"))
    else:
        if display is not None:
            raise SipParseError(f"display name without <uri> in {text!r}")
        uri, _, param_text = text.partition(";")
        params = _parse_params(param_text)
        if "?" in uri or "," in uri:       # RFC 3261 20: such a URI must be enclosed in <>
            raise SipParseError(f"URI with '?' or ',' outside <> in {text[:80]!r}")
    if ":" not in uri:
        raise SipParseError(f"no URI in {text!r}")
    return NameAddr(display, uri.strip(), params)


@dataclass
class Via:
    """One Via entry."""

    transport: str
    host: str
    port: int | None
    params: dict[str, str | None] = field(default_factory=dict)

    @property
    def branch(self) -> str | None:
        return self.params.get("branch")

    def __str__(self) -> str:
        port = f":{self.port}" if self.port else ""
        params = "".join(f";{k}" if v is None else f";{k}={v}" for k, v in self.params.items())
        return f"SIP/2.0/{self.transport} {self.host}{port}{params}"


_VIA = re.compile(rf"^\s*[{_TOKEN_CHARS}]+\s*/\s*[{_TOKEN_CHARS}]+\s*/\s*([{_TOKEN_CHARS}]+)\s+([^;]+?)\s*(;.*)?$",
                  re.S)


def parse_via(text: str) -> Via:
    """One Via value; any sent-protocol (SIP/2.0, or another version a 505 will refuse)."""
    m = _VIA.match(text)
    if not m:
        raise SipParseError(f"bad Via {text[:80]!r}")
    host, port = _split_hostport(m.group(2))
    if not _HOST.match(host):
        raise SipParseError(f"bad Via host {text[:80]!r}")
    return Via(m.group(1).upper(), host, port, _parse_params((m.group(3) or "")[1:]))


def parse_cseq(text: str) -> tuple[int, str]:
    parts = text.split()
    if len(parts) != 2 or not _DIGITS.match(parts[0]) or not _TOKEN.match(parts[1]):
        raise SipParseError(f"bad CSeq {text!r}")
    number = int(parts[0])
    if number >= 2**31:
        raise SipParseError(f"CSeq number out of range {text!r}")
    return number, parts[1]


# --- messages ------------------------------------------------------------------------------------

@dataclass
class Message:
    """Common part of requests and responses.

    `defect` says why a message that could be parsed must still be refused: a Content-Length that
    does not frame the body, a malformed Request-Line, too many or too long header fields. The
    parser keeps such messages so that a request can still be answered with that status.
    """

    headers: Headers
    body: bytes
    defect: Invalid | None = None

    def first_line(self) -> str:
        raise NotImplementedError

    def serialize(self) -> bytes:
        """Wire form with Content-Length matching the body."""
        self.headers.set("Content-Length", str(len(self.body)))
        lines = [self.first_line()] + [f"{n}: {v}" for n, v in self.headers]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape") + self.body

    @property
    def call_id(self) -> str:
        return self.headers.get("Call-ID") or ""

    @property
    def cseq(self) -> tuple[int, str]:
        return parse_cseq(self.headers.get("CSeq") or "")

    @property
    def from_addr(self) -> NameAddr:
        return parse_name_addr(self.headers.get("From") or "")

    @property
    def to_addr(self) -> NameAddr:
        return parse_name_addr(self.headers.get("To") or "")

    @property
    def top_via(self) -> Via:
        vias = self.headers.get_all("Via")
        if not vias:
            raise SipParseError("no Via")
        return parse_via(vias[0])


@dataclass
class Request(Message):
    method: str = ""
    uri: str = ""
    version: str = "SIP/2.0"

    def first_line(self) -> str:
        return f"{self.method} {self.uri} {self.version}"


@dataclass
class Response(Message):
    status: int = 0
    reason: str = ""

    def first_line(self) -> str:
        return f"SIP/2.0 {self.status} {self.reason}"


def new_request(method: str, uri: str, headers: Iterable[tuple[str, str]], body: bytes = b"") -> Request:
    return Request(Headers(headers), body, method=method, uri=uri)


def _split_head(data: bytes) -> tuple[bytes, bytes]:
    """Header section and body, cut at the first empty line (CRLF or bare LF line ends)."""
    m = re.search(rb"\r?\n\r?\n", data)
    if m is None:
        return data, b""
    return data[:m.start()], data[m.end():]


def _header_lines(head: str) -> list[str]:
    """Unfold continuation lines (RFC 3261 7.3.1)."""
    lines: list[str] = []
    for raw in re.split(r"\r?\n", head):
        if raw[:1] in (" ", "\t") and lines:
            lines[-1] += " " + raw.strip()
        else:
            lines.append(raw)
    return lines


_REQUEST_LINE = re.compile(rf"^([{_TOKEN_CHARS}]+) (\S+) ((?i:SIP)/\d+\.\d+)$")
# Not a Request-Line, but recognisably a request: extra spaces, LWS inside the URI, trailing SP.
_LOOSE_REQUEST_LINE = re.compile(rf"^([{_TOKEN_CHARS}]+) +(\S.*?) +((?i:SIP)/\d+\.\d+) *$")
_STATUS_LINE = re.compile(r"^SIP/(\d+\.\d+) (\d{3})(?: (.*))?$")


def parse_message(data: bytes) -> Request | Response:
    """Parse one SIP message; raises SipParseError for anything that is not one.

    Over `MAX_MESSAGE_SIZE` octets it raises SipMessageTooLarge, which carries the header section
    when that fits, so that the request can be answered 513.
    """
    data = data.lstrip(b"\r\n")
    if not data:
        raise SipParseError("empty")
    if len(data) > MAX_MESSAGE_SIZE:
        head_end = re.search(rb"\r?\n\r?\n", data[:MAX_MESSAGE_SIZE])
        raise SipMessageTooLarge(data[:head_end.start()] if head_end else None)
    head_bytes, body = _split_head(data)
    head = head_bytes.decode("utf-8", "surrogateescape")
    if "\x00" in head.replace("\\\x00", ""):
        raise SipParseError("NUL outside a quoted pair")     # RFC 3261 25.1: only as quoted-pair
    lines = _header_lines(head)
    start = lines[0]
    headers = Headers()
    defect: Invalid | None = None
    for line in lines[1:]:
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip() or not _TOKEN.match(name.strip()):
            raise SipParseError(f"bad header line {line[:60]!r}")
        headers.add(name, value.strip())
        if len(line) > MAX_LINE and defect is None:
            defect = Invalid(400, "Header Field Too Long")
    if len(headers) > MAX_HEADERS:
        defect = Invalid(400, "Too Many Header Fields")
    msg: Request | Response
    if start.startswith("SIP/"):
        m = _STATUS_LINE.match(start)
        if not m:
            raise SipParseError(f"bad status line {start[:60]!r}")
        msg = Response(headers, b"", status=int(m.group(2)), reason=m.group(3) or "")
        if not 100 <= msg.status <= 699:
            raise SipParseError("status code out of range")
    else:
        m = _REQUEST_LINE.match(start)
        if m is None:
            m = _LOOSE_REQUEST_LINE.match(start)
            if m is None:
                raise SipParseError(f"bad request line {start[:60]!r}")
            defect = Invalid(400, "Malformed Request-Line")
        if len(start) > MAX_LINE:
            defect = Invalid(414, "Request-URI Too Long")
        msg = Request(headers, b"", method=m.group(1), uri=m.group(2).strip(), version=m.group(3))
    msg.body, body_defect = _frame_body(headers.get("Content-Length"), body)
    msg.defect = defect or body_defect
    return msg


def _frame_body(length: str | None, body: bytes) -> tuple[bytes, Invalid | None]:
    """The body as the Content-Length frames it (UDP: the rest of the datagram without one)."""
    if length is None:
        return body, None
    if not _DIGITS.match(length.strip()):
        return body, Invalid(400, "Malformed Content-Length")
    n = int(length)
    if n > len(body):
        return body, Invalid(400, "Content-Length larger than body")
    return body[:n], None


_REQUIRED = ("To", "From", "CSeq", "Call-ID", "Via")


def can_respond(request: Request) -> bool:
    """True when a response can be routed back: the top Via is usable (RFC 3261 18.2.2)."""
    try:
        request.top_via
    except SipError:
        return False
    return True


def check_request(request: Request) -> Invalid | None:
    """Semantic checks of RFC 3261 8.2 before a request reaches a transaction."""
    if request.version.upper() != "SIP/2.0":
        return Invalid(505, "Version Not Supported")
    if request.defect is not None:
        return request.defect
    for name in _REQUIRED:
        if not request.headers.get(name):
            return Invalid(400, f"Missing {name} header")
    for name in ("To", "From", "Call-ID", "CSeq", "Max-Forwards", "Content-Length", "Content-Type"):
        if len(request.headers.get_all(name)) > 1:
            return Invalid(400, f"Multiple {name} headers")
    try:
        _, method = request.cseq
    except SipParseError:
        return Invalid(400, "Malformed CSeq")
    if method != request.method:
        return Invalid(400, "CSeq method does not match request method")
    try:
        request.top_via
        for via in request.headers.get_all("Via"):
            parse_via(via)
        request.from_addr
        request.to_addr
        for contact in request.headers.get_all("Contact"):
            if contact.strip() != "*":
                parse_name_addr(contact)
    except SipParseError as exc:
        return Invalid(400, f"Malformed header: {exc}")
    max_forwards = request.headers.get("Max-Forwards")
    if max_forwards is not None and not _DIGITS.match(max_forwards.strip()):
        return Invalid(400, "Malformed Max-Forwards")
    scheme, colon, _ = request.uri.partition(":")
    if colon and _SCHEME.match(scheme) and scheme.lower() not in SUPPORTED_SCHEMES:
        return Invalid(416, "Unsupported URI Scheme")
    try:
        uri = parse_uri(request.uri)
    except SipParseError:
        return Invalid(400, "Malformed Request-URI")
    if uri.headers is not None:                # RFC 3261 19.1.5: not allowed in a Request-URI
        return Invalid(400, "Headers in Request-URI")
    return None


def make_response(request: Request, status: int, reason: str | None = None, *,
                  to_tag: str | None = None, headers: Iterable[tuple[str, str]] = (),
                  body: bytes = b"") -> Response:
    """A response to `request` (RFC 3261 8.2.6): Via, From, To, Call-ID, CSeq copied, To-tag added."""
    out = Headers()
    for via in request.headers.get_all("Via"):
        out.add("Via", via)
    to = request.headers.get("To")
    if to and to_tag and status > 100:
        try:
            if parse_name_addr(to).tag is None:
                to = f"{to};tag={to_tag}"
        except SipParseError:
            pass
    # A request refused for a missing header gets a response without it rather than an empty one.
    for name, value in (("From", request.headers.get("From")), ("To", to),
                        ("Call-ID", request.headers.get("Call-ID")), ("CSeq", request.headers.get("CSeq"))):
        if value:
            out.add(name, value)
    if request.method == "INVITE" and 100 < status < 300:
        for route in request.headers.get_all("Record-Route"):
            out.add("Record-Route", route)
    for name, value in headers:
        out.add(name, value)
    return Response(out, body, status=status, reason=reason or REASONS.get(status, "Unknown"))


class StreamFramer:
    """Cuts a stream-oriented transport's bytes into whole SIP messages (RFC 3261 18.3)."""

    def __init__(self, max_size: int = MAX_MESSAGE_SIZE) -> None:
        self._buffer = bytearray()
        self._max = max_size
        self.keepalives = 0            # CRLFCRLF pings seen (RFC 5626 4.4.1); the owner answers and resets
        self._crlfs = 0                # CRLFs since the last message: a ping may arrive in two pieces

    def feed(self, data: bytes) -> list[bytes]:
        """Add bytes; return the complete messages now available. Raises SipFramingError."""
        self._buffer += data
        out: list[bytes] = []
        while True:
            stripped = len(self._buffer) - len(self._buffer.lstrip(b"\r\n"))
            if stripped:
                self._crlfs += self._buffer[:stripped].count(b"\r\n")
                self.keepalives += self._crlfs // 2
                self._crlfs %= 2
                del self._buffer[:stripped]
            if self._buffer:
                self._crlfs = 0
            idx = self._buffer.find(b"\r\n\r\n")
            if idx < 0:
                if len(self._buffer) > self._max:
                    raise SipFramingError("header section too large")
                return out
            head = bytes(self._buffer[:idx]).decode("utf-8", "surrogateescape")
            length = None
            for line in _header_lines(head)[1:]:
                name, _, value = line.partition(":")
                if canonical_name(name) == "Content-Length":
                    if not _DIGITS.match(value.strip()):
                        raise SipFramingError("bad Content-Length")
                    length = int(value.strip())
            if length is None:
                raise SipFramingError("Content-Length is mandatory on stream transports")
            total = idx + 4 + length
            if total > self._max:
                raise StreamMessageTooLarge(bytes(self._buffer[:idx]))
            if len(self._buffer) < total:
                return out
            out.append(bytes(self._buffer[:total]))
            del self._buffer[:total]
