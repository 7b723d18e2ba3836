"""Voice pack endpoints: a business's recorded words (`ivr.media.voice_pack`), uploaded as an archive of
`WORD.wav|mp3|ogg` files or one recording at a time, listed with the words each lacks to say every value of a
language, a word replaced or removed, a pack deleted. A pack is its tenant's alone: the tenant's campaigns name
it by its name (`voice: {engine: voice-pack, voice: NAME}`), another tenant's campaigns cannot reach it.

Archives are unpacked and every recording decoded in a worker thread, one upload at a time per node (each runs
ffmpeg once a word); nothing of an upload is kept unless all of it is good. After a change the tenant's
campaigns in service have their prompts made again from the pack's new version.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from ivr.i18n import t
from ivr.media.verbalize import NUMERALS
from ivr.media.voice_pack import (
    MAX_ARCHIVE, MAX_WORD_BYTES, PACK_NAME, PackUploadError, Upload, VoicePack, convert_all, unpack, word_of,
)
from ivr.store import Action

from .core import ApiError, acting_tenant, engine_of, principal_of, read_body, store_of

ARCHIVE_TYPES = ("application/zip", "application/x-zip-compressed", "application/x-tar", "application/gzip",
                 "application/x-gzip", "application/x-bzip2", "application/x-xz", "application/octet-stream")
WORD_TYPES = ("audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave", "audio/mpeg", "audio/mp3", "audio/ogg",
              "application/ogg")
SUFFIX = {"audio/mpeg": ".mp3", "audio/mp3": ".mp3", "audio/ogg": ".ogg", "application/ogg": ".ogg"}
MAX_TEXTS, MAX_TEXT = 20, 1000           # texts whose words a pack is checked for, and characters of each
_ONE_AT_A_TIME = asyncio.Semaphore(1)     # uploads decoded at once on this node (ffmpeg per word, 2 cores)
# What these endpoints refuse, in words.
MESSAGES = {
    "name": t("a voice pack's name is 1 to 64 letters, digits, - and _, starting with a letter or digit"),
    "word": t("a word is letters and apostrophes (ваш, п'ять), at most 40"),
    "archive_type": t("send the pack as one of {types}", types=", ".join(ARCHIVE_TYPES)),
    "word_type": t("send the recording as one of {types}", types=", ".join(WORD_TYPES)),
    "empty": t("the body is empty: send the archive or the recording"),
    "language": t("language must be one of {languages}", languages=", ".join(NUMERALS)),
    "no_pack": lambda pack: t("no voice pack {pack!r} (upload it: PUT /api/voice-packs/{pack})", pack=pack),
    "no_word": lambda pack, word: t("voice pack {pack!r} has no recording of {word!r}", pack=pack, word=word),
    "refused": t("nothing of the upload was added: see problems"),
}


def _pack_name(request: web.Request) -> str:
    name = request.match_info["pack"]
    if not PACK_NAME.fullmatch(name):
        raise ApiError(400, MESSAGES["name"])
    return name


def _languages(request: web.Request) -> list[str]:
    asked = request.query.get("language")
    if asked is None:
        return list(NUMERALS)
    if asked not in NUMERALS:
        raise ApiError(400, MESSAGES["language"])
    return [asked]


async def list_packs(request: web.Request) -> web.Response:
    """The tenant's voice packs with their words and versions."""
    tenant_id = await acting_tenant(request)
    packs = await asyncio.to_thread(engine_of(request).voice_packs.packs, tenant_id)
    return web.json_response([{"tenant_id": tenant_id, **p.as_dict(), "count": len(p.words)} for p in packs])


async def get_pack(request: web.Request) -> web.Response:
    """A pack: its words, version, and per language (`?language=`, else each) the words it lacks to say every
    value, and the words of the texts given (`?text=`, repeated)."""
    tenant_id, pack = await acting_tenant(request), _pack_name(request)
    languages = _languages(request)
    texts = [text[:MAX_TEXT] for text in request.query.getall("text", [])][:MAX_TEXTS]
    packs = engine_of(request).voice_packs

    def described() -> dict[str, Any] | None:
        info = packs.info(tenant_id, pack)
        if info is None:
            return None
        lacking = VoicePack(packs.folder(tenant_id, pack))
        return {"tenant_id": tenant_id, **info.as_dict(), "count": len(info.words),
                "missing": {language: lacking.missing(language, texts) for language in languages}}
    found = await asyncio.to_thread(described)
    if found is None:
        raise ApiError(404, MESSAGES["no_pack"](pack))
    return web.json_response(found)


async def upload_pack(request: web.Request) -> web.Response:
    """Add the recordings of an archive to the pack (made if new), replacing words it has; all or nothing."""
    tenant_id, pack = await acting_tenant(request), _pack_name(request)
    if request.content_type not in ARCHIVE_TYPES:
        raise ApiError(415, MESSAGES["archive_type"])
    data = await read_body(request)
    if not data:
        raise ApiError(400, MESSAGES["empty"])
    return await _install(request, tenant_id, pack, lambda: unpack(data))


async def put_word(request: web.Request) -> web.Response:
    """Add or replace one word's recording (WAV, MP3 or OGG) of the pack (made if new)."""
    tenant_id, pack = await acting_tenant(request), _pack_name(request)
    word = word_of(request.match_info["word"])
    if word is None:
        raise ApiError(400, MESSAGES["word"])
    if request.content_type not in WORD_TYPES:
        raise ApiError(415, MESSAGES["word_type"])
    data = await read_body(request)
    if not data:
        raise ApiError(400, MESSAGES["empty"])
    suffix = SUFFIX.get(request.content_type, ".wav")
    return await _install(request, tenant_id, pack, lambda: [Upload(word, f"{word}{suffix}", data)])


async def _install(request: web.Request, tenant_id: str, pack: str, read: Any) -> web.Response:
    packs = engine_of(request).voice_packs

    def work() -> tuple[Any, list[str]]:
        uploads = read()
        recorded = convert_all(uploads)
        before = packs.info(tenant_id, pack)
        replaced = sorted(set(recorded) & set(before.words if before else []))
        return packs.install(tenant_id, pack, recorded), replaced
    async with _ONE_AT_A_TIME:
        try:
            info, replaced = await asyncio.to_thread(work)
        except PackUploadError as exc:
            raise ApiError(422, MESSAGES["refused"], problems=[p.as_dict() for p in exc.problems]) from None
    await store_of(request).audit(principal_of(request).actor, Action.VOICE_PACK_CHANGED, tenant_id, pack,
                                  {"version": info.version, "words": len(info.words), "replaced": replaced})
    await engine_of(request).remake_prompts(tenant_id)
    return web.json_response({"tenant_id": tenant_id, **info.as_dict(), "count": len(info.words),
                              "replaced": replaced})


async def delete_word(request: web.Request) -> web.Response:
    """Remove one word of the pack."""
    tenant_id, pack = await acting_tenant(request), _pack_name(request)
    word = word_of(request.match_info["word"])
    if word is None:
        raise ApiError(400, MESSAGES["word"])
    if not await asyncio.to_thread(engine_of(request).voice_packs.remove_word, tenant_id, pack, word):
        raise ApiError(404, MESSAGES["no_word"](pack, word))
    await store_of(request).audit(principal_of(request).actor, Action.VOICE_PACK_CHANGED, tenant_id, pack,
                                  {"removed": word})
    await engine_of(request).remake_prompts(tenant_id)
    return web.Response(status=204)


async def delete_pack(request: web.Request) -> web.Response:
    """Delete the pack and every recording of it (campaigns naming it can no longer be put in service)."""
    tenant_id, pack = await acting_tenant(request), _pack_name(request)
    if not await asyncio.to_thread(engine_of(request).voice_packs.remove, tenant_id, pack):
        raise ApiError(404, MESSAGES["no_pack"](pack))
    await store_of(request).audit(principal_of(request).actor, Action.VOICE_PACK_DELETED, tenant_id, pack)
    return web.Response(status=204)
