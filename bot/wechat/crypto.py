"""WeChat's message signatures and the AES envelope of "safe mode" (安全模式).

Written on `cryptography` rather than taken from wechatpy: wechatpy's last release is from
2021 and pulls in requests, xmltodict and more for what is ~60 lines of well-documented
algorithm; `cryptography` is maintained, audited and does the one hard part (AES-CBC).
tests/bot/wechat/test_wechat_crypto.py checks this module against WeChat's published sample values,
as does the separate implementation in tests/support/fake_wechat.py that plays WeChat.

The algorithm (微信公众平台 "消息加解密说明"):
- signature = sha1 of the sorted strings concatenated: token, timestamp, nonce (and, for
  `msg_signature`, the Encrypt field too);
- key = base64 of the 43-character EncodingAESKey plus "=" (32 bytes), IV = its first 16;
- plaintext = 16 random bytes + 4-byte big-endian length + message + AppID, padded PKCS#7
  style to a multiple of 32 bytes (not AES's 16), AES-256-CBC, base64.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32  # WeChat pads to 32 bytes
AES_KEY_CHARS = 43


class CryptoError(ValueError):
    """A message that does not decrypt, or is not for this account."""


def signature(*parts: str) -> str:
    """sha1 hex digest of the parts, sorted and concatenated (WeChat's signature)."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def signature_ok(expected_parts: tuple[str, ...], given: str) -> bool:
    """Constant-time comparison of `given` with the signature of `expected_parts`."""
    return secrets.compare_digest(signature(*expected_parts).encode(), given.encode())


def decode_aes_key(aes_key: str) -> bytes:
    """The 32-byte key from a 43-character EncodingAESKey; ValueError when malformed."""
    if len(aes_key) != AES_KEY_CHARS:
        raise ValueError(f"the EncodingAESKey must be {AES_KEY_CHARS} characters")
    try:
        key = base64.b64decode(aes_key + "=", validate=True)
    except binascii.Error:
        raise ValueError("the EncodingAESKey is not base64") from None
    if len(key) != 32:
        raise ValueError("the EncodingAESKey does not decode to 32 bytes")
    return key


class Envelope:
    """Encrypts replies to and decrypts messages from one account (token, key, AppID).

    Every message is AES-256-CBC from the same IV. A context costs about as much to make as
    the AES of a whole message, so each direction keeps one for the envelope's life (one
    thread uses it: the server's event loop): decryption is ECB, then each block XORed
    with the ciphertext block before it (the IV for the first), which is CBC's definition;
    encryption is one CBC context that is never finalised, so it chains each message's
    first block to the previous message's last ciphertext block instead of the IV, and
    that first plaintext block is XORed with both first to cancel it. Both give exactly
    what a fresh CBC context would (the sample values of test_wechat_crypto.py)."""

    def __init__(self, token: str, aes_key: str, app_id: str) -> None:
        self.token = token
        self.key = decode_aes_key(aes_key)
        self.app_id = app_id.encode()
        iv = self.key[:16]
        self._iv = int.from_bytes(iv)
        self._blocks = Cipher(algorithms.AES(self.key), modes.ECB()).decryptor()
        self._chained = Cipher(algorithms.AES(self.key), modes.CBC(iv)).encryptor()
        self._last = self._iv  # the running context's last ciphertext block

    def msg_signature(self, timestamp: str, nonce: str, encrypted: str) -> str:
        return signature(self.token, timestamp, nonce, encrypted)

    def encrypt(self, message: bytes, random16: bytes | None = None) -> str:
        """The base64 Encrypt field for `message` (`random16`: fixed only in tests)."""
        head = random16 if random16 is not None else os.urandom(16)
        if len(head) != 16:
            raise ValueError("the random prefix is 16 bytes")
        plain = head + struct.pack(">I", len(message)) + message + self.app_id
        pad = BLOCK - len(plain) % BLOCK
        plain += bytes([pad]) * pad
        first = int.from_bytes(plain[:16]) ^ self._iv ^ self._last
        sealed = self._chained.update(first.to_bytes(16) + plain[16:])
        self._last = int.from_bytes(sealed[-16:])
        return base64.b64encode(sealed).decode()

    def decrypt(self, encrypted: str) -> bytes:
        """The message inside an Encrypt field; CryptoError if it is not one of ours."""
        try:
            data = base64.b64decode(encrypted, validate=True)
        except binascii.Error:
            raise CryptoError("not base64") from None
        if not data or len(data) % 16:
            raise CryptoError("not a whole number of AES blocks")
        chain = (self._iv << 8 * (len(data) - 16)) | int.from_bytes(data[:-16])
        plain = (int.from_bytes(self._blocks.update(data)) ^ chain).to_bytes(len(data))
        pad = plain[-1]
        if not 1 <= pad <= BLOCK or plain[-pad:] != bytes([pad]) * pad:
            raise CryptoError("bad padding")
        plain = plain[:-pad]
        if len(plain) < 20:
            raise CryptoError("too short")
        (size,) = struct.unpack(">I", plain[16:20])
        message, app_id = plain[20 : 20 + size], plain[20 + size :]
        if len(message) != size or not secrets.compare_digest(app_id, self.app_id):
            raise CryptoError("not for this account")
        return message
