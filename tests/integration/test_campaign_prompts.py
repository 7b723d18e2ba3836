"""What a campaign's voice settings and recordings sound like on real calls.

One engine with its own prompt cache and a dialplans folder of two campaigns: one speaking in its own
voice settings (flite `slt`, rate 1.2; its last node in `awb`), one playing a WAV file of its folder. A
third campaign is uploaded over the API with a recording (MP3) uploaded for it. Scripted phones keep
every RTP packet; the audio must be the cached entry of exactly those settings, or the recording as
converted, and nothing may be synthesised while a call runs.
"""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from ivr.media import audio, g711
from ivr.media.prompt_cache import PromptCache, PromptRequest
from ivr.media.tts import TtsRegistry

from ..support.caller import Arrival, Caller, locate
from .api.conftest import Api, lease, make_key
from .conftest import start_engine

pytestmark = pytest.mark.integration

HELLO = "Thank you for calling the voice settings line."
BYE = "Goodbye from another voice."
VOICE_CAMPAIGN = f"""\
id: voice-settings
name: Voice settings
numbers: {{voice: ["4100"]}}
voice: {{engine: flite, voice: slt, rate: 1.2}}
start: hello
nodes:
  hello: {{type: say, text: "{HELLO}", next: bye}}
  bye: {{type: end, text: "{BYE}", voice: {{voice: awb}}}}
"""
CHIME_CAMPAIGN = """\
id: chime-line
name: Chime
numbers: {voice: ["4200"]}
start: chime
nodes:
  chime: {type: say, audio: chime.wav, text: "A chime.", next: bye}
  bye: {type: end}
"""
UPLOADED_CAMPAIGN = """\
id: upload-line
name: Uploaded recording
numbers: {voice: ["4300"]}
start: welcome
nodes:
  welcome: {type: say, audio: welcome, text: "Welcome.", next: bye}
  bye: {type: end}
"""


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("campaign-prompts")
    dialplans = tmp / "dialplans"
    dialplans.mkdir()
    (dialplans / "voice.yaml").write_text(VOICE_CAMPAIGN)
    (dialplans / "chime.yaml").write_text(CHIME_CAMPAIGN)
    # two tones with a pause, 44.1 kHz stereo: resampled, downmixed, trimmed and levelled by the engine
    ffmpeg("-f", "lavfi", "-i", "aevalsrc='0.3*sin(2*PI*600*t)*lt(t,0.5)+0.2*sin(2*PI*900*t)*gt(t,0.8)':d=1.3:s=44100",
           "-ac", "2", str(dialplans / "chime.wav"))
    ffmpeg("-f", "lavfi", "-i", "aevalsrc='0.4*sin(2*PI*500*t)*sin(2*PI*3*t)':d=1.5:s=22050",
           "-c:a", "libmp3lame", "-b:a", "64k", str(tmp / "welcome.mp3"))
    cache = tmp / "cache"
    engine = start_engine(tmp, "--prompts", str(cache), dialplans=dialplans)
    try:
        for number in ("4300", "4400"):                   # the numbers of the campaigns "shop" uploads
            lease(engine, "shop", number)
        yield SimpleNamespace(engine=engine, api=Api(engine), key=make_key(engine, "shop", "business"),
                              cache=PromptCache(cache), dialplans=dialplans, tmp=tmp)
    finally:
        engine.stop()


async def hear_call(sip_port: int, number: str, caller_id: str) -> list[Arrival]:
    """Call `number` and keep the audio until the engine hangs up (the flow's end)."""
    async with Caller(("127.0.0.1", sip_port), number, caller_id=caller_id) as phone:
        await phone.dial()
        await phone.wait_hangup(timeout=30)
        return list(phone.received)


def made_during_calls(node) -> int:
    """How many prompts the engine has made since it started (each logs "prompt made")."""
    return node.engine.log().count("prompt made:")


def encoded(node, request: PromptRequest) -> bytes:
    return node.cache.load_encoded(node.cache.key(request), g711.PCMU)


def test_campaign_voice_settings_are_made_at_load_and_heard_on_calls(node) -> None:
    made = made_during_calls(node)
    received = asyncio.run(hear_call(node.engine.sip_port, "4100", "+15550004101"))

    hello = encoded(node, PromptRequest(text=HELLO, language="en", engine="flite", voice="slt", rate=1.2))
    bye = encoded(node, PromptRequest(text=BYE, language="en", engine="flite", voice="awb", rate=1.2))
    assert locate(received, hello + bye) is not None, \
        "the greeting in slt at rate 1.2, then the end node's own voice (awb), are not in the stream as cached"
    assert made_during_calls(node) == made, "a prompt was synthesised during the call"

    with_defaults = PromptCache(node.tmp / "defaults").synthesize(PromptRequest(text=HELLO, language="en"))
    default_audio = g711.encode(g711.PCMU, with_defaults)
    assert default_audio != hello and locate(received, default_audio) is None
    assert abs(len(default_audio) - len(hello)) > 0.1 * 8000, "rate 1.2 changes the length"


def test_a_recording_of_the_campaign_folder_is_heard(node) -> None:
    received = asyncio.run(hear_call(node.engine.sip_port, "4200", "+15550004201"))
    chime = g711.encode(g711.PCMU, audio.to_telephony(node.dialplans / "chime.wav"))
    start = locate(received, chime)
    assert start is not None, "the chime is not in the stream as converted"
    assert all(a.silent for a in received[:start])
    assert 1.2 <= len(chime) / 8000 <= 1.4


def test_an_uploaded_recording_is_converted_listed_and_heard(node) -> None:
    mp3 = (node.tmp / "welcome.mp3").read_bytes()
    reply = node.api("PUT", "/api/campaigns/upload-line/recordings/welcome", node.key, text=mp3,
                     content_type="audio/mpeg")
    assert reply.status == 200, reply.body
    uploaded = reply.json()
    assert uploaded["name"] == "welcome" and uploaded["format"] == "mp3" and uploaded["bytes"] == len(mp3)
    assert 1.4 <= uploaded["seconds"] <= 1.6

    reply = node.api("POST", "/api/campaigns/upload-line/versions?activate=1", node.key, text=UPLOADED_CAMPAIGN,
                     content_type="application/yaml")
    assert reply.status == 201, reply.body
    assert node.api("GET", "/api/campaigns/upload-line/recordings", node.key).json() == [uploaded]

    made = made_during_calls(node)
    received = asyncio.run(hear_call(node.engine.sip_port, "4300", "+15550004301"))
    welcome = g711.encode(g711.PCMU, audio.to_telephony(node.tmp / "welcome.mp3"))
    assert locate(received, welcome) is not None, "the uploaded recording is not in the stream as converted"
    assert made_during_calls(node) == made


def test_bad_uploads_are_refused_and_lose_nothing(node) -> None:
    wav = node.dialplans / "chime.wav"
    put = "/api/campaigns/upload-errors/recordings/"
    reply = node.api("PUT", put + "jingle", node.key, text=wav.read_bytes(), content_type="audio/wav")
    assert reply.status == 200
    before = node.api("GET", "/api/campaigns/upload-errors/recordings", node.key).json()

    reply = node.api("PUT", put + "jingle", node.key, text=b"RIFF not really a wave file", content_type="audio/wav")
    assert reply.status == 422 and "cannot be decoded" in reply.json()["error"]
    silence = node.tmp / "silence.ogg"
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "1", "-c:a", "libvorbis", str(silence))
    reply = node.api("PUT", put + "jingle", node.key, text=silence.read_bytes(), content_type="audio/ogg")
    assert reply.status == 422 and "no sound" in reply.json()["error"]
    assert node.api("PUT", put + "jingle", node.key, text=b"x", content_type="text/plain").status == 415
    assert node.api("PUT", put + "bad.name", node.key, text=wav.read_bytes(), content_type="audio/wav").status == 400
    assert node.api("PUT", put + "empty", node.key, text=b"", content_type="audio/wav").status == 400
    assert node.api("GET", "/api/campaigns/upload-errors/recordings", node.key).json() == before

    missing = UPLOADED_CAMPAIGN.replace("upload-line", "upload-errors").replace("4300", "4310").replace(
        "audio: welcome", "audio: jingle2")
    for path in ("/api/dialplans/validate", "/api/campaigns/upload-errors/versions"):
        reply = node.api("POST", path, node.key, text=missing, content_type="application/yaml")
        assert reply.status == 422, reply.body
        [issue] = reply.json()["issues"]
        assert issue["path"] == "nodes.welcome.audio" and 'no recording "jingle2"' in issue["message"]
    assert node.api("GET", "/api/campaigns/upload-errors/versions", node.key).status == 404   # nothing stored
    file_audio = missing.replace("audio: jingle2", "audio: chime.wav")
    reply = node.api("POST", "/api/dialplans/validate", node.key, text=file_audio, content_type="application/yaml")
    assert reply.status == 422                      # a business's file never reads the node's files
    assert reply.json()["issues"][0]["path"] == "nodes.welcome.audio"
    (node.dialplans / "codes.txt").write_text("104729\n")
    file_pool = missing.replace("jingle2", "jingle") + "code_pools: {stolen: {file: codes.txt}}\n"
    reply = node.api("POST", "/api/dialplans/validate", node.key, text=file_pool, content_type="application/yaml")
    assert reply.status == 422 and reply.json()["issues"][0]["path"].startswith("code_pools.stolen"), reply.body
    assert node.api("POST", "/api/dialplans/validate", node.key, text=missing.replace("jingle2", "jingle"),
                    content_type="application/yaml").json() == {"ok": True, "campaign_id": "upload-errors"}


def test_voice_settings_the_node_cannot_use_are_refused_with_their_path(node) -> None:
    bad_engine = VOICE_CAMPAIGN.replace("voice-settings", "bad-voice").replace("4100", "4110").replace(
        "voice: {voice: awb}", "voice: {engine: nope}")
    reply = node.api("POST", "/api/campaigns/bad-voice/versions", node.key, text=bad_engine,
                     content_type="application/yaml")
    assert reply.status == 422, reply.body
    [issue] = reply.json()["issues"]
    assert issue["path"] == "nodes.bye.text" and "unknown TTS engine 'nope'" in issue["message"]
    too_fast = VOICE_CAMPAIGN.replace("voice-settings", "bad-voice").replace("rate: 1.2", "rate: 3")
    reply = node.api("POST", "/api/dialplans/validate", node.key, text=too_fast, content_type="application/yaml")
    assert reply.status == 422 and reply.json()["issues"][0]["path"] == "voice.rate"


BALANCE_CAMPAIGN = """\
id: pack-line
name: Balance in a recorded voice
numbers: {voice: ["4400"]}
languages: [uk]
voice: {engine: voice-pack, voice: brand}
start: balance
nodes:
  balance: {type: say, text: "Ваш баланс AMOUNT грн.", next: bye}
  bye: {type: end}
"""


def test_a_voice_pack_says_the_balance_and_names_the_words_it_lacks(node) -> None:
    """A business's recorded words (here espeak-ng's, one file a word) say "Ваш баланс 1 грн": the call
    hears the words one after another as recorded; a text needing words the pack lacks is refused on
    upload with the words listed."""
    pack = node.tmp / "var" / "voice-packs" / "brand"
    pack.mkdir(parents=True)
    for word in ("ваш", "баланс", "одна", "гривня"):
        subprocess.run(["espeak-ng", "-v", "uk", "-w", str(pack / f"{word}.wav"), word], check=True)

    lacking = BALANCE_CAMPAIGN.replace("AMOUNT", "2")
    reply = node.api("POST", "/api/campaigns/pack-line/versions", node.key, text=lacking,
                     content_type="application/yaml")
    assert reply.status == 422, reply.body
    [issue] = reply.json()["issues"]
    assert issue["path"] == "nodes.balance.text" and "no recording of: гривні, дві" in issue["message"], issue

    reply = node.api("POST", "/api/campaigns/pack-line/versions?activate=1", node.key,
                     text=BALANCE_CAMPAIGN.replace("AMOUNT", "1"), content_type="application/yaml")
    assert reply.status == 201, reply.body
    received = asyncio.run(hear_call(node.engine.sip_port, "4400", "+15550004401"))
    cache = PromptCache(node.tmp / "cache", TtsRegistry(voice_packs=pack.parent))   # the engine's cache, its packs
    tenant = node.api("GET", "/api/me", node.key).json()["tenant_id"]      # the shop's own pack first, else the node's
    request = PromptRequest(text="Ваш баланс 1 грн.", language="uk", engine="voice-pack", voice=f"{tenant}/brand")
    heard = cache.load_encoded(cache.key(request), g711.PCMU)
    assert locate(received, heard) is not None, "the balance is not in the stream as the pack's words made it"
    words = sum(len(audio.to_telephony(pack / f"{w}.wav")) // 2 for w in ("ваш", "баланс", "одна", "гривня"))
    assert words <= len(heard) <= words + 8000 * 0.4, "the four words with short pauses between them"
