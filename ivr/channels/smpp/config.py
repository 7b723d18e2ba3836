"""`ivr serve --smsc FILE`: the operator links and the prefix table, from YAML.

    country_code: "380"            # national numbers (0XX...) are this country's
    links:
      vodafone:
        host: smpp.vodafone.example
        port: 2775
        system_id: shortnum
        password_env: IVR_SMPP_VODAFONE_PASSWORD   # the secret stays in the environment
        system_type: ""
        bind: transceiver          # or tx+rx (a transmitter and a receiver session)
        tls: false
        throughput: 50             # submit_sm per second on this link
        window: 10                 # submit_sm awaiting their response at once
    operators:
      vodafone: {link: vodafone, prefixes: ["050", "066", "095", "099"]}
      kyivstar: {link: kyivstar, prefixes: ["067", "068", "096", "097", "098"]}
      lifecell: {link: lifecell, prefixes: ["063", "073", "093"]}
    fallback: vodafone             # numbers no prefix matches

Every problem is reported with its path (`links.vodafone.port: ...`). A password is read from the named
environment variable when the file is loaded and never printed (`repr` hides it).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

BIND_MODES = ("transceiver", "tx+rx")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


class SmscConfigError(ValueError):
    """The file cannot be used; the message names the path of the first problem."""


@dataclass(frozen=True)
class LinkSettings:
    name: str
    host: str
    port: int
    system_id: str
    password: str = field(repr=False)
    system_type: str = ""
    bind: str = "transceiver"
    tls: bool = False
    throughput: float = 10.0
    window: int = 10
    source_ton: int = 3            # a short number: network specific
    source_npi: int = 0
    dest_ton: int = 1              # subscribers in international form
    dest_npi: int = 1
    registered_delivery: bool = True
    reconnect_min: float = 1.0     # seconds before the first re-bind, doubling up to reconnect_max
    reconnect_max: float = 60.0


@dataclass(frozen=True)
class Operator:
    name: str
    link: str
    prefixes: tuple[str, ...]


@dataclass(frozen=True)
class SmscConfig:
    links: dict[str, LinkSettings]
    operators: tuple[Operator, ...] = ()
    fallback: str | None = None
    country_code: str = "380"

    def link_operators(self) -> dict[str, str]:
        """The operator of each link that carries one operator only (what comes on it is that operator's
        subscribers', ported numbers too); a link shared by several operators names none."""
        carried: dict[str, list[str]] = {}
        for operator in self.operators:
            carried.setdefault(operator.link, []).append(operator.name)
        return {link: names[0] for link, names in carried.items() if len(names) == 1}


def load(path: str | Path, environ: dict[str, str] | None = None) -> SmscConfig:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SmscConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SmscConfigError(f"{path}: not valid YAML: {exc}") from None
    try:
        return parse(data, os.environ if environ is None else environ)
    except SmscConfigError as exc:
        raise SmscConfigError(f"{path}: {exc}") from None


def parse(data: Any, environ: Any) -> SmscConfig:
    if not isinstance(data, dict):
        raise SmscConfigError("expected a mapping with links, operators and fallback")
    _known(data, "", ("links", "operators", "fallback", "country_code"))
    links_data = data.get("links")
    if not isinstance(links_data, dict) or not links_data:
        raise SmscConfigError("links: at least one link is needed")
    links = {name: _link(str(name), spec, environ) for name, spec in links_data.items()}
    operators = []
    for name, spec in (data.get("operators") or {}).items():
        path = f"operators.{name}"
        if not isinstance(spec, dict):
            raise SmscConfigError(f"{path}: expected {{link, prefixes}}")
        _known(spec, path, ("link", "prefixes"))
        if spec.get("link") not in links:
            raise SmscConfigError(f"{path}.link: no link {spec.get('link')!r} (links: {', '.join(links)})")
        prefixes = spec.get("prefixes")
        if not isinstance(prefixes, list) or not prefixes or not all(
                isinstance(p, (str, int)) and re.fullmatch(r"\+?[0-9]{1,15}", str(p)) for p in prefixes):
            raise SmscConfigError(f"{path}.prefixes: expected a list of digit strings such as \"050\"")
        operators.append(Operator(str(name), spec["link"], tuple(str(p) for p in prefixes)))
    fallback = data.get("fallback")
    if fallback is not None and fallback not in links:
        raise SmscConfigError(f"fallback: no link {fallback!r} (links: {', '.join(links)})")
    country = str(data.get("country_code", "380"))
    if not re.fullmatch(r"[1-9][0-9]{0,2}", country):
        raise SmscConfigError("country_code: expected 1 to 3 digits, e.g. \"380\"")
    if fallback is None and not operators and len(links) == 1:
        fallback = next(iter(links))
    return SmscConfig(links, tuple(operators), fallback, country)


def _link(name: str, spec: Any, environ: Any) -> LinkSettings:
    path = f"links.{name}"
    if not NAME.fullmatch(name):
        raise SmscConfigError(f"{path}: a link name is letters, digits, - and _")
    if not isinstance(spec, dict):
        raise SmscConfigError(f"{path}: expected host, port, system_id, password_env, ...")
    _known(spec, path, ("host", "port", "system_id", "password_env", "system_type", "bind", "tls", "throughput",
                        "window", "source_ton", "source_npi", "dest_ton", "dest_npi", "registered_delivery",
                        "reconnect_min", "reconnect_max"))
    for required in ("host", "port", "system_id"):
        if spec.get(required) in (None, ""):
            raise SmscConfigError(f"{path}.{required}: missing")
    password = ""
    if spec.get("password_env"):
        if spec["password_env"] not in environ:
            raise SmscConfigError(f"{path}.password_env: the environment has no {spec['password_env']}")
        password = environ[spec["password_env"]]
    port = spec["port"]
    if not isinstance(port, int) or not 0 < port < 65536:
        raise SmscConfigError(f"{path}.port: expected a port number")
    bind = spec.get("bind", "transceiver")
    if bind not in BIND_MODES:
        raise SmscConfigError(f"{path}.bind: expected one of {', '.join(BIND_MODES)}")
    throughput = spec.get("throughput", 10)
    if not isinstance(throughput, (int, float)) or not 0 < throughput <= 10_000:
        raise SmscConfigError(f"{path}.throughput: expected messages per second, more than 0")
    window = spec.get("window", 10)
    if not isinstance(window, int) or not 1 <= window <= 1000:
        raise SmscConfigError(f"{path}.window: expected 1 to 1000 outstanding submit_sm")
    if len(str(spec["system_id"])) > 15:
        raise SmscConfigError(f"{path}.system_id: at most 15 characters")
    numbers = {k: spec[k] for k in ("source_ton", "source_npi", "dest_ton", "dest_npi") if k in spec}
    for key, value in numbers.items():
        if not isinstance(value, int) or not 0 <= value <= 255:
            raise SmscConfigError(f"{path}.{key}: expected 0 to 255")
    timing = {k: float(spec[k]) for k in ("reconnect_min", "reconnect_max") if k in spec}
    return LinkSettings(name=name, host=str(spec["host"]), port=port, system_id=str(spec["system_id"]),
                        password=password, system_type=str(spec.get("system_type", "")), bind=bind,
                        tls=bool(spec.get("tls", False)), throughput=float(throughput), window=window,
                        registered_delivery=bool(spec.get("registered_delivery", True)), **numbers, **timing)


def _known(spec: dict[str, Any], path: str, fields: tuple[str, ...]) -> None:
    for key in spec:
        if key not in fields:
            where = f"{path}.{key}" if path else str(key)
            raise SmscConfigError(f"{where}: unknown field (known: {', '.join(fields)})")
