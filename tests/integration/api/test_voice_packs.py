"""Voice packs a business uploads over the API: an archive of its recorded words becomes its pack (another
tenant can neither read it nor speak with it), a campaign of the business says a value in those words on a
real call, a replaced word is heard in the next call (the pack's version moves on), and hostile or broken
uploads (path traversal, links, a zip bomb, text posing as audio, too long, too big) add nothing."""

from __future__ import annotations

import asyncio
import io
import subprocess
import tarfile
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from ivr.media import g711
from ivr.media.prompt_cache import PromptCache, PromptRequest
from ivr.media.tts import TtsRegistry

from ...support.caller import Caller, locate
from ..conftest import start_engine
from .conftest import Api, lease, make_key

pytestmark = pytest.mark.integration

WORDS = ("ваш", "баланс", "чотири", "тисячі", "шістсот")
CAMPAIGN = """\
id: pack-balance
name: Balance in the brand's voice
numbers: {voice: ["4600"]}
languages: [uk]
voice: {engine: voice-pack, voice: brand}
start: balance
nodes:
  balance: {type: say, text: "Ваш баланс {{short_number}}", next: bye}
  bye: {type: end}
"""


def spoken(word: str, folder: Path, voice: str = "uk") -> bytes:
    path = folder / f"{word}.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(path), word], check=True)
    return path.read_bytes()


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("voice-packs")
    engine = start_engine(tmp, "--prompts", str(tmp / "cache"))
    keys = {"brand": make_key(engine, "brand", "business"), "rival": make_key(engine, "rival", "business")}
    lease(engine, "brand", "4600")
    lease(engine, "rival", "4700")
    recorded = tmp / "recorded"
    recorded.mkdir()
    try:
        yield SimpleNamespace(engine=engine, api=Api(engine), keys=keys, tmp=tmp,
                              words={w: spoken(w, recorded) for w in WORDS})
    finally:
        engine.stop()


async def hear_call(sip_port: int, number: str, caller_id: str) -> list:
    async with Caller(("127.0.0.1", sip_port), number, caller_id=caller_id) as phone:
        await phone.dial()
        await phone.wait_hangup(timeout=30)
        return list(phone.received)


def heard_value(world, tenant_id: str) -> bytes:
    """The G.711 the pack's words make of the value, as the engine made it during the call."""
    cache = PromptCache(world.tmp / "cache", TtsRegistry(voice_packs=world.engine.data_dir / "voice-packs"))
    request = PromptRequest(text="Ваш баланс 4600", language="uk", engine="voice-pack", voice=f"{tenant_id}/brand")
    return cache.load_encoded(cache.key(request), g711.PCMU)


def test_an_uploaded_pack_says_the_value_and_is_its_tenants_alone(world) -> None:
    api, brand, rival = world.api, world.keys["brand"], world.keys["rival"]
    # a campaign naming a pack not uploaded yet is refused with the prompt's path
    reply = api("POST", "/api/campaigns/pack-balance/versions", brand, text=CAMPAIGN, content_type="application/yaml")
    assert reply.status == 422, reply.body
    assert reply.json()["issues"][0]["path"] == "nodes.balance.text"
    assert "no voice pack 'brand'" in reply.json()["issues"][0]["message"]

    archive = zipped({**{f"brand/{w}.wav": data for w, data in world.words.items() if w != "шістсот"},
                      "__MACOSX/brand/._ваш.wav": b"\x00\x05", "brand/.DS_Store": b"junk"})
    reply = api("PUT", "/api/voice-packs/brand", brand, text=archive, content_type="application/zip")
    assert reply.status == 200, reply.body
    pack = reply.json()
    assert (pack["name"], pack["count"], pack["replaced"]) == ("brand", 4, [])
    tenant_id = pack["tenant_id"]
    listed = api("GET", "/api/voice-packs/brand?language=uk", brand).json()
    assert "шістсот" in listed["missing"]["uk"] and "баланс" not in listed["missing"]["uk"]
    assert sorted(listed["words"]) == sorted(set(WORDS) - {"шістсот"})
    reply = api("PUT", "/api/voice-packs/brand/words/Шістсот", brand, text=world.words["шістсот"],
                content_type="audio/wav")                             # one recording at a time, name normalised
    assert reply.status == 200 and "шістсот" in reply.json()["words"], reply.body

    # the rival sees nothing of it and cannot speak with it
    assert api("GET", "/api/voice-packs", rival).json() == []
    assert api("GET", "/api/voice-packs/brand", rival).status == 404
    assert api("DELETE", "/api/voice-packs/brand/words/ваш", rival).status == 404
    assert api("GET", f"/api/voice-packs?tenant={tenant_id}", rival).status == 403
    stolen = CAMPAIGN.replace("pack-balance", "rival-balance").replace("4600", "4700")
    reply = api("POST", "/api/campaigns/rival-balance/versions", rival, text=stolen, content_type="application/yaml")
    assert reply.status == 422 and "no voice pack 'brand'" in reply.json()["issues"][0]["message"], reply.body
    evil = stolen.replace("voice: brand", f"voice: {tenant_id}/brand")
    reply = api("POST", "/api/campaigns/rival-balance/versions", rival, text=evil, content_type="application/yaml")
    assert reply.status == 422, reply.body

    # the brand's campaign says the number called in the brand's recorded words
    reply = api("POST", "/api/campaigns/pack-balance/versions?activate=1", brand, text=CAMPAIGN,
                content_type="application/yaml")
    assert reply.status == 201, reply.body
    received = asyncio.run(hear_call(world.engine.sip_port, "4600", "+15550004601"))
    first = heard_value(world, tenant_id)
    assert locate(received, first) is not None, "the value is not in the call as the pack's words make it"

    # a word replaced (another voice): the next call hears the new recording
    version = api("GET", "/api/voice-packs/brand", brand).json()["version"]
    other = spoken("баланс", world.tmp, voice="ru")
    reply = api("PUT", "/api/voice-packs/brand/words/баланс", brand, text=other, content_type="audio/wav")
    assert reply.status == 200 and reply.json()["replaced"] == ["баланс"] and reply.json()["version"] != version
    received = asyncio.run(hear_call(world.engine.sip_port, "4600", "+15550004602"))
    second = heard_value(world, tenant_id)
    assert second != first and locate(received, second) is not None and locate(received, first) is None

    # deleted: gone for the brand too
    assert api("DELETE", "/api/voice-packs/brand/words/ваш", brand).status == 204
    after = api("GET", "/api/voice-packs/brand?language=uk&text=Ваш баланс", brand).json()
    assert "ваш" not in after["words"] and "ваш" in after["missing"]["uk"] and "баланс" not in after["missing"]["uk"]


def tarred(members: list[tarfile.TarInfo], data: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for member in members:
            content = data.get(member.name)
            if content is not None:
                member.size = len(content)
            archive.addfile(member, io.BytesIO(content) if content is not None else None)
    return buffer.getvalue()


def test_hostile_and_broken_uploads_add_nothing(world) -> None:
    api, rival = world.api, world.keys["rival"]
    good = world.words["ваш"]

    def refused(body: bytes, content_type: str = "application/zip", path: str = "/api/voice-packs/junk") -> list:
        reply = api("PUT", path, rival, text=body, content_type=content_type)
        assert reply.status == 422, reply.body
        return [(p["file"], p["message"]) for p in reply.json()["problems"]]

    problems = refused(zipped({"../ваш.wav": good, "/etc/баланс.wav": good, "brand/123.wav": good,
                               "brand/notes.txt": b"hello", "brand/гривня.wav": b"RIFF....not audio at all",
                               "brand/ВАШ.wav": good, "brand/ваш.wav": good}))
    by_file = dict(problems)
    assert "outside the pack" in by_file["../ваш.wav"] and "outside the pack" in by_file["/etc/баланс.wav"]
    assert "not one word" in by_file["brand/123.wav"] and "not a recording" in by_file["brand/notes.txt"]
    assert "comes twice" in by_file["brand/ваш.wav"]
    # the names were refused first; with good names, the text posing as a WAV is found by decoding
    assert refused(zipped({"гривня.wav": b"RIFF\x00\x00\x00\x00WAVEjunk" * 10, "ваш.wav": good})) == [
        ("гривня.wav", "the audio cannot be decoded (send WAV, MP3 or OGG)")]
    assert refused(zipped({"гривня.wav": b"#EXTM3U\nfile:///etc/passwd\n"})) == [("гривня.wav",
                                                                                   "not WAV, MP3 or OGG audio")]
    # a zip bomb: a few KB claiming little, holding 50 MB of zeros
    bomb = zipped({"ваш.wav": b"RIFF" + bytes(50 * 1024 * 1024)})
    assert len(bomb) < 200_000
    assert refused(bomb) == [("ваш.wav", "a word's recording is at most 2097152 bytes")]
    # a tar with a link to the node's files and a device
    link = tarfile.TarInfo("ваш.wav")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    device = tarfile.TarInfo("баланс.wav")
    device.type = tarfile.CHRTYPE
    assert [m for _, m in refused(tarred([link, device], {}), "application/gzip")] == [
        "not a plain file (a link, device or other special entry)"] * 2
    # a recording far longer than a word
    long = world.tmp / "long.wav"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "sine=frequency=440:duration=9", str(long)], check=True)
    assert refused(long.read_bytes(), "audio/wav", "/api/voice-packs/junk/words/ваш") == [
        ("ваш.wav", "a word's recording lasts at most 5 s")]
    assert refused(b"not an archive") == [("", refused(b"not an archive")[0][1])]
    reply = api("PUT", "/api/voice-packs/junk", rival, text=b"x" * (33 * 1024 * 1024), content_type="application/zip")
    assert reply.status == 413
    assert api("PUT", "/api/voice-packs/..%2Fetc", rival, text=good, content_type="application/zip").status in (
        400, 404)
    assert api("PUT", "/api/voice-packs/junk", rival, text=good, content_type="text/plain").status == 415
    assert api("GET", "/api/voice-packs", rival).json() == []                     # nothing of it was kept
