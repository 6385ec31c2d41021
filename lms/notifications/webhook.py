"""Webhook messages: a JSON POST whose body is signed with the subscriber's secret.

`X-HyperEdu-Signature: sha256=<hex HMAC-SHA256(secret, body)>`; receivers recompute it over
the raw body and compare in constant time. Any 2xx answer is a delivery.
"""

from __future__ import annotations

import hashlib
import hmac

import httpx

SIGNATURE_HEADER = "X-HyperEdu-Signature"
DELIVERY_HEADER = "X-HyperEdu-Delivery"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, body), signature)


async def post_webhook(
    client: httpx.AsyncClient, url: str, secret: str, body: bytes, delivery_id: int
) -> None:
    """POST `body`; raise on anything but a 2xx answer."""
    response = await client.post(
        url,
        content=body,
        headers={
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(secret, body),
            DELIVERY_HEADER: str(delivery_id),
        },
    )
    if not response.is_success:
        raise RuntimeError(f"webhook answered {response.status_code}")
