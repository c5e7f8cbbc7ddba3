// Verifies a Passway event hook delivery (Standard Webhooks). No dependencies.
// Usage: node verify.mjs SECRET HEADERS_JSON BODY_FILE  -> prints true or false
import crypto from "node:crypto";
export function verify(secret, headers, body) {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const id = headers["webhook-id"], ts = headers["webhook-timestamp"];
  if (!/^\d+$/.test(ts) || Math.abs(Date.now() / 1000 - Number(ts)) > 300) return false;
  const expected = crypto.createHmac("sha256", key).update(`${id}.${ts}.${body}`).digest();
  return headers["webhook-signature"].split(" ").some((s) => {
    const got = Buffer.from(s.startsWith("v1,") ? s.slice(3) : "", "base64");
    return got.length === expected.length && crypto.timingSafeEqual(got, expected);
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const fs = await import("node:fs");
  const [secret, headers, bodyFile] = process.argv.slice(2);
  console.log(verify(secret, JSON.parse(headers), fs.readFileSync(bodyFile, "utf8")));
}
