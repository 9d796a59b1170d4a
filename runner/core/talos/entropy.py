"""Where the randomness of a secrets bundle comes from.

Production draws from the OS (`secrets`); tests and reproducible fixtures pass a seeded
`random.Random`, and then every byte of the bundle (keys, serials, tokens) follows from the seed.
"""

from __future__ import annotations

import random
import secrets

# Talos (like kubeadm) builds tokens from this alphabet; 252 = 7 * 36 is the largest multiple of
# the alphabet size below 256, so rejecting bytes >= 252 keeps every character equally likely.
TOKEN_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
_MAX_UNBIASED_BYTE = 252


class Entropy:
    """Random bytes from a seeded generator when given one, from the OS otherwise."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng

    @property
    def deterministic(self) -> bool:
        return self._rng is not None

    def bytes(self, size: int) -> bytes:
        if self._rng is None:
            return secrets.token_bytes(size)
        return self._rng.randbytes(size)

    def int_below(self, upper: int) -> int:
        """Uniform integer in [0, upper)."""
        if self._rng is None:
            return secrets.randbelow(upper)
        return self._rng.randrange(upper)

    def token_part(self, length: int) -> str:
        chars: list[str] = []
        while len(chars) < length:
            for byte in self.bytes(length * 2):
                if byte < _MAX_UNBIASED_BYTE and len(chars) < length:
                    chars.append(TOKEN_ALPHABET[byte % len(TOKEN_ALPHABET)])
        return "".join(chars)

    def token(self, first: int = 6, second: int = 16) -> str:
        """A `abcdef.0123456789abcdef` token, the shape of bootstrap and trustd tokens."""
        return f"{self.token_part(first)}.{self.token_part(second)}"
