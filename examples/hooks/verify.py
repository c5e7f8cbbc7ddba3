"""Verifies a Passway event hook delivery (Standard Webhooks). Standard library only.

Usage: python3 verify.py SECRET HEADERS_JSON BODY_FILE  -> prints True or False
"""
import base64, hashlib, hmac, time
def verify(secret: str, headers: dict, body: bytes) -> bool:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    msg_id, ts = headers["webhook-id"], headers["webhook-timestamp"]
    if not ts.isdigit() or abs(time.time() - int(ts)) > 300:
        return False
    mac = hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    expected = base64.b64encode(mac).decode()
    return any(hmac.compare_digest(s[3:], expected) for s in headers["webhook-signature"].split(" ") if s.startswith("v1,"))


if __name__ == "__main__":
    import json, sys
    secret, headers, body_file = sys.argv[1:4]
    with open(body_file, "rb") as f:
        print(verify(secret, json.loads(headers), f.read()))
