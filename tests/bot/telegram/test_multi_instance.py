"""Two real `yibao run --webhook` processes sharing one real redis-server, behind the fake
Bot API: each chat gets exactly its one correct conversation, whichever instance takes each
turn; a copy of an update delivered to both instances at once is answered once; a reload
on one instance reaches the other."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import aiohttp
import pytest
from fake_bot_api import FakeBotAPI
from multi_instance import (
    SECRET,
    SECRET_HEADER,
    drive,
    expected_replies,
    mismatches,
    start_instances,
    stop_instances,
    text_update,
    wait_healthy,
)

from knowledge.lexicon import LEXICON_DIR
from knowledge.loader import DATA_DIR

CHATS = 200
TURNS = 10
ADMIN = 99


@pytest.mark.slow
async def test_200_chats_10_turns_alternating_between_two_instances(
    fake: FakeBotAPI, redis_url: str
) -> None:
    chats = list(range(10_000, 10_000 + CHATS))
    expected = await expected_replies(chats, TURNS)
    instances = await start_instances(fake, redis_url, 2)
    try:
        result = await drive(fake, instances, expected)
    finally:
        logs = await stop_instances(instances)
    assert result.failures == [], result.failures[:5]
    assert len(result.latencies) == CHATS * TURNS
    assert mismatches(fake, expected) == []
    assert len(fake.sent) == sum(len(h) for turns in expected.values() for h in turns)
    assert all(p.returncode == 0 for p in (i.proc for i in instances)), logs
    assert all("Traceback" not in log for log in logs), logs


async def test_one_update_at_both_instances_at_once_is_answered_once(
    fake: FakeBotAPI, redis_url: str
) -> None:
    """Telegram retrying an update another instance is still handling: both copies arrive
    together; the Redis chat lock serialises them and the second finds it answered."""
    chats = list(range(20_000, 20_050))
    expected = await expected_replies(chats, 3)
    instances = await start_instances(fake, redis_url, 2)
    try:
        connector = aiohttp.TCPConnector(limit=2 * len(chats) + 8)
        async with aiohttp.ClientSession(connector=connector) as http:

            async def both(update: dict[str, object]) -> list[int]:
                async def post(url: str) -> int:
                    headers = {SECRET_HEADER: SECRET}
                    async with http.post(url, json=update, headers=headers) as resp:
                        return resp.status

                return list(await asyncio.gather(*(post(i.url) for i in instances)))

            update_id = 1
            for turn in range(3):
                updates = []
                for chat in chats:
                    text = expected_text(chat, turn)
                    updates.append(text_update(fake, update_id, chat, text))
                    update_id += 1
                statuses = await asyncio.gather(*(both(u) for u in updates))
                assert all(s == [200, 200] for s in statuses)
    finally:
        await stop_instances(instances)
    assert mismatches(fake, expected) == []


def expected_text(chat: int, turn: int) -> str:
    from multi_instance import script

    return script(chat, turn + 1)[turn]


async def test_a_reload_on_one_instance_reaches_the_other(
    fake: FakeBotAPI, redis_url: str, tmp_path: Path
) -> None:
    data, lexicon = tmp_path / "data", tmp_path / "lexicon"
    shutil.copytree(DATA_DIR, data)
    shutil.copytree(LEXICON_DIR, lexicon)
    env = {"YIBAO_KB_DIR": str(data), "YIBAO_LEXICON_DIR": str(lexicon)}
    instances = await start_instances(fake, redis_url, 2, YIBAO_ADMIN_IDS=str(ADMIN), **env)
    try:
        async with aiohttp.ClientSession() as http:
            before = [await wait_healthy(http, i) for i in instances]
            assert before[0]["kb_version"] == before[1]["kb_version"]
            path = data / "tianjin.yaml"
            path.write_text(path.read_text("utf-8").replace("要点：", "要点（新）：", 1), "utf-8")
            reload = text_update(fake, 1, ADMIN, "/reload")
            headers = {SECRET_HEADER: SECRET}
            async with http.post(instances[0].url, json=reload, headers=headers) as resp:
                assert resp.status == 200
            (told,) = fake.messages(ADMIN)
            first = await wait_healthy(http, instances[0])
            assert first["kb_version"] != before[0]["kb_version"]
            assert first["kb_version"] in told.text
            for _ in range(200):  # the other instance checks the generation every 2 s
                other = await wait_healthy(http, instances[1])
                if other["kb_version"] == first["kb_version"]:
                    break
                await asyncio.sleep(0.05)
            assert other["kb_version"] == first["kb_version"]
            question = text_update(fake, 2, 5, "天津新生儿医保怎么办")
            async with http.post(instances[1].url, json=question, headers=headers) as resp:
                assert resp.status == 200
            (answer,) = fake.messages(5)
            assert "要点（新）：" in answer.text
    finally:
        await stop_instances(instances)
