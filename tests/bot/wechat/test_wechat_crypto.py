"""WeChat's published sample values (消息加解密 sample, as carried by wechatpy's tests),
checked against BOTH implementations: the server's (bot/wechat/crypto.py) and the fake
WeChat's own (tests/support/fake_wechat.py). XML parsing refuses entity tricks."""

from __future__ import annotations

import pytest
from fake_wechat import WeChatCipher, sign

from bot.wechat import crypto, xml

# Plain-mode signature: token "test", timestamp 1410685589, nonce "test".
PLAIN = ("test", "1410685589", "test", "f21891de399b4e33a1a93c9a7b8a8fffb5a443ff")

# Safe mode: token, EncodingAESKey, AppID of the documented sample.
TOKEN = "123456"
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
APP_ID = "wx49f0ab532d5d035a"
RANDOM = b"1234567890123456"
REPLY = """<xml>
<MsgType><![CDATA[text]]></MsgType>
<Content><![CDATA[test]]></Content>
<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>
<ToUserName><![CDATA[messense]]></ToUserName>
<AgentID>1</AgentID>
<CreateTime>1411525903</CreateTime>
</xml>"""
REPLY_ENCRYPT = (
    "9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNc"
    "BqGsL8GqxlhZgURnAtObvesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY"
    "0nFhHZSjPUL2Q1qvSUCUld+/WIXrx0oyKQmpB6o8NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsV"
    "bwbgX05UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O5oazPoQJz0nTYjxxEE8kv3kFxtAG"
    "VRe3ypD3WeK2XeFYFMNMpatF9XiKzHo3"
)
REPLY_SIGNATURE = ("1411525903", "461056294", "407518b7649e86ef23978113f92d27afa9296533")
MESSAGE_ENCRYPT = (
    "RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHC"
    "rsTyeDXzF6Bv283dGymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpX"
    "aG4+BiYyolBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQi"
    "MS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQi"
    "pvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0="
)
MESSAGE_SIGNATURE = ("1411525903", "461056294", "74d92dfeb87ba7c714f89d98870ae5eb62dff26d")


def test_plain_signature_matches_the_sample() -> None:
    token, ts, nonce, expected = PLAIN
    assert crypto.signature(token, ts, nonce) == expected
    assert sign(token, ts, nonce) == expected
    assert crypto.signature_ok((token, ts, nonce), expected)
    assert not crypto.signature_ok((token, ts, nonce), expected[:-1] + "e")


@pytest.mark.parametrize("impl", ["server", "fake"])
def test_encrypting_the_sample_reply_gives_the_sample_envelope(impl: str) -> None:
    if impl == "server":
        sealed = crypto.Envelope(TOKEN, AES_KEY, APP_ID).encrypt(REPLY.encode(), RANDOM)
    else:
        sealed = WeChatCipher(AES_KEY, APP_ID).seal(REPLY.encode(), RANDOM)
    assert sealed == REPLY_ENCRYPT
    ts, nonce, expected = REPLY_SIGNATURE
    assert crypto.Envelope(TOKEN, AES_KEY, APP_ID).msg_signature(ts, nonce, sealed) == expected
    assert sign(TOKEN, ts, nonce, sealed) == expected


@pytest.mark.parametrize("impl", ["server", "fake"])
def test_decrypting_the_sample_message(impl: str) -> None:
    ts, nonce, expected = MESSAGE_SIGNATURE
    assert crypto.signature(TOKEN, ts, nonce, MESSAGE_ENCRYPT) == expected
    assert sign(TOKEN, ts, nonce, MESSAGE_ENCRYPT) == expected
    if impl == "server":
        message = crypto.Envelope(TOKEN, AES_KEY, APP_ID).decrypt(MESSAGE_ENCRYPT)
    else:
        message = WeChatCipher(AES_KEY, APP_ID).open(MESSAGE_ENCRYPT)
    fields = xml.parse(message)
    assert (fields["Content"], fields["FromUserName"]) == ("test", "messense")


def test_envelope_of_another_account_or_tampered_is_refused() -> None:
    other = crypto.Envelope(TOKEN, AES_KEY, "wx0000000000000000")
    with pytest.raises(crypto.CryptoError):
        other.decrypt(MESSAGE_ENCRYPT)
    ours = crypto.Envelope(TOKEN, AES_KEY, APP_ID)
    for bad in ("not base64!", "", MESSAGE_ENCRYPT[:-8] + "AAAAAAA="):
        with pytest.raises(crypto.CryptoError):
            ours.decrypt(bad)


def test_round_trip_of_long_chinese_text() -> None:
    envelope = crypto.Envelope(TOKEN, AES_KEY, APP_ID)
    text = ("积分入医" * 3000).encode()
    assert envelope.decrypt(envelope.encrypt(text)) == text
    assert WeChatCipher(AES_KEY, APP_ID).open(envelope.encrypt(text)) == text


@pytest.mark.parametrize("key", ["short", AES_KEY[:-1] + "!", "A" * 44])
def test_malformed_aes_key_is_refused(key: str) -> None:
    with pytest.raises(ValueError):
        crypto.decode_aes_key(key)


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">]>
<xml><Content>&lol2;</Content></xml>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><Content>&e;</Content></xml>"""


@pytest.mark.parametrize("body", [BOMB, XXE, b"<xml><a>", b"not xml", b"<other/>"])
def test_xml_tricks_and_garbage_are_refused(body: bytes) -> None:
    with pytest.raises(xml.XmlError):
        xml.parse(body)


def test_cdata_cannot_be_closed_by_the_text() -> None:
    built = xml.text_reply("o", "gh", "a]]>b<c>&d", 1)
    assert xml.parse(built.encode())["Content"] == "a]]>b<c>&d"


def test_one_envelope_seals_and_opens_message_after_message_as_a_fresh_one_does() -> None:
    """The envelope keeps its AES contexts between messages: each message must still be
    what a fresh envelope makes of it (CBC from the IV), whatever came before, a refused
    message included."""
    kept = crypto.Envelope(TOKEN, AES_KEY, APP_ID)
    fake = WeChatCipher(AES_KEY, APP_ID)
    for size in (0, 1, 11, 12, 13, 44, 45, 300, 2048, 7):
        message = ("积" * size).encode()[: size * 2] or b"x"
        sealed = kept.encrypt(message, RANDOM)
        assert sealed == crypto.Envelope(TOKEN, AES_KEY, APP_ID).encrypt(message, RANDOM)
        assert fake.open(sealed) == message
        assert kept.decrypt(fake.seal(message)) == message
        with pytest.raises(crypto.CryptoError):
            kept.decrypt(MESSAGE_ENCRYPT[:-8] + "AAAAAAA=")
    assert kept.decrypt(MESSAGE_ENCRYPT).startswith(b"<xml>")
