"""`ivr serve` options: what running it without any means, and the event loop it picks."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from ivr.cli import build_parser, config_from_args, loop_factory
from ivr.engine.config import ConfigError, EngineConfig
from ivr.sip.ratelimit import DEFAULT_RATES

ENVIRONMENT = ("IVR_REGISTER_PASSWORD", "IVR_SMS_TOKEN", "IVR_WEBHOOK_SECRET", "IVR_SMS_OUTBOUND_SECRET")


def serve(*options: str) -> tuple[EngineConfig, str]:
    args = build_parser().parse_args(["serve", *options])
    return config_from_args(args), args.loop


@pytest.fixture(autouse=True)
def no_secrets_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)


def test_serve_without_options_runs_the_embedded_defaults() -> None:
    """What the README promises for a bare `ivr serve` (and `make serve`)."""
    config, loop = serve()
    assert (config.sip_host, config.sip_port, config.sip_tcp) == ("0.0.0.0", 5060, True)
    assert (config.http_host, config.http_port) == ("127.0.0.1", 8080)
    assert config.db_url == "sqlite:///var/ivr.db"
    assert (config.data_dir, config.dialplans_dir, config.prompts_dir) == (
        Path("var"), Path("dialplans"), Path("prompts/cache"))
    assert (config.rtp_port_min, config.rtp_port_max) == (20000, 30000)
    assert (config.max_calls, config.max_calls_per_caller, config.max_setup_per_source) == (200, 2, 20)
    assert config.sip_rates == DEFAULT_RATES and config.allow_from == ()
    assert config.unknown_numbers == "announce"
    assert (config.register, config.accept_register, config.sms_token, config.webhook_secret) == (
        None, False, None, None)
    assert (config.rtp_timeout, config.ring_seconds, config.advertise_host) == (30.0, 0.0, None)
    assert loop == "auto"
    assert config == EngineConfig(), "the command line's defaults and the engine's own differ"


def test_serve_options_reach_the_config() -> None:
    config, loop = serve("--sip", "127.0.0.1:5070", "--http", ":8081", "--no-tcp", "--rtp-ports", "40000-40001",
                         "--unknown-numbers", "reject", "--loop", "asyncio")
    assert (config.sip_host, config.sip_port, config.sip_tcp) == ("127.0.0.1", 5070, False)
    assert (config.http_host, config.http_port) == ("0.0.0.0", 8081)
    assert (config.rtp_port_min, config.rtp_port_max, config.unknown_numbers, loop) == (
        40000, 40001, "reject", "asyncio")


@pytest.mark.parametrize("value, header", [("ivr/0.1", "ivr/0.1"), ("acme IVR 2", "acme IVR 2"), ("off", None),
                                           ("OFF", None), ("", None)])
def test_server_header_text_or_off(value: str, header: str | None) -> None:
    assert serve("--server-header", value)[0].server_header == header


def test_a_server_header_must_be_printable_ascii() -> None:
    with pytest.raises(ConfigError, match="printable ASCII"):
        serve("--server-header", "ivr\r\nX-Injected: 1".encode().decode("unicode_escape"))


@pytest.mark.parametrize("options", [("--unknown-numbers", "404"), ("--loop", "trio")])
def test_serve_refuses_a_choice_it_does_not_have(options: tuple[str, ...], capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_:
        serve(*options)
    assert exit_.value.code == 2 and "invalid choice" in capsys.readouterr().err


def test_operator_prefixes_reach_the_config(tmp_path: Path) -> None:
    config, _ = serve("--operator", "3mob=091", "--operator", "lifecell=063,073,093,0939")
    assert config.operators.operator_of("+380911234567") == "3mob"
    assert config.operators.operator_of("0671234567") == "kyivstar"            # the defaults stay
    smsc = tmp_path / "smsc.yaml"
    smsc.write_text("links: {ks: {host: h, port: 1, system_id: s}}\n"
                    "operators: {kyivstar: {link: ks, prefixes: ['067', '068', '096', '097', '098', '091']}}\n")
    config, _ = serve("--smsc", str(smsc), "--operator", "lifecell=")
    assert config.operators.operator_of("0911234567") == "kyivstar"            # the links' file says so
    assert config.operators.operator_of("0631234567") == "unknown"


@pytest.mark.parametrize("options, message", [(("--rtp-ports", "30000-20000"), "empty RTP port range"),
                                              (("--rtp-ports", "20000"), "expected MIN-MAX"),
                                              (("--sip", "127.0.0.1:99999"), "port out of range"),
                                              (("--operator", "kyivstar"), "--operator: bad operator")])
def test_serve_refuses_unusable_values_with_a_clear_error(options: tuple[str, ...], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        serve(*options)


def test_engine_config_refuses_an_unknown_treatment_of_unknown_numbers() -> None:
    with pytest.raises(ConfigError, match="unknown_numbers must be one of announce, reject"):
        EngineConfig(unknown_numbers="drop")


def test_loop_auto_and_uvloop_pick_uvloop_asyncio_opts_out() -> None:
    import uvloop      # the 'fast' extra, installed by the set-up

    assert loop_factory("auto") is uvloop.new_event_loop
    assert loop_factory("uvloop") is uvloop.new_event_loop
    assert loop_factory("asyncio") is None
    with asyncio.Runner(loop_factory=loop_factory("auto")) as runner:
        assert isinstance(runner.get_loop(), uvloop.Loop)
    with asyncio.Runner(loop_factory=loop_factory("asyncio")) as runner:
        assert not isinstance(runner.get_loop(), uvloop.Loop)


def test_without_uvloop_auto_falls_back_and_uvloop_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)      # `import uvloop` raises ImportError, as when absent
    assert loop_factory("auto") is None
    with pytest.raises(ConfigError, match="uvloop is not installed"):
        loop_factory("uvloop")


def test_speech_engines_and_model_cache_reach_the_config(tmp_path: Path) -> None:
    config, _ = serve("--speech-engine", "en=whisper", "--speech-engine", "RU-ru=whisper", "--model-cache",
                      str(tmp_path))
    assert config.speech.engines == {"en": "whisper", "ru": "whisper"}
    assert config.speech.model_cache == tmp_path


@pytest.mark.parametrize("item,says", [
    ("en", "expected LANG=ENGINE"), ("en=vosk", "ENGINE one of pocketsphinx, whisper"),
    ("ru=pocketsphinx", "pocketsphinx hears English only"), ("tlh=whisper", "Whisper does not know 'tlh'"),
])
def test_a_speech_engine_that_cannot_hear_the_language_is_refused(item: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        serve("--speech-engine", item)


def test_smsc_file_reaches_the_config_and_its_problems_name_their_path(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    smsc = tmp_path / "smsc.yaml"
    smsc.write_text("links: {vf: {host: 127.0.0.1, port: 2775, system_id: ivr, password_env: IVR_T_PW}}\n")
    monkeypatch.setenv("IVR_T_PW", "secret")
    config, _ = serve("--smsc", str(smsc), "--sms-outbound", "http://127.0.0.1:9/sms", "--sms-outbound-secret", "k")
    assert config.smsc is not None and config.smsc.links["vf"].password == "secret" and config.smsc.fallback == "vf"
    assert (config.sms_outbound_url, config.sms_outbound_secret) == ("http://127.0.0.1:9/sms", "k")
    monkeypatch.delenv("IVR_T_PW")
    with pytest.raises(ConfigError, match=r"--smsc .*smsc.yaml: links.vf.password_env: the environment has no IVR_T"):
        serve("--smsc", str(smsc))
