// A registration inline hook for Passway (examples/use-cases/inline-disposable-email.toml):
// refuses sign-ups from disposable addresses, in the person's language. No dependencies.
// Usage: HOOK_SECRET_FILE=registration-hook.secret PORT=9001 node registration.mjs
import fs from "node:fs";
import http from "node:http";
import { verify } from "./verify.mjs";

const secret = fs.readFileSync(process.env.HOOK_SECRET_FILE ?? "registration-hook.secret", "utf8").trim();
const DISPOSABLE = new Set(["mailinator.com", "guerrillamail.com", "yopmail.com", "10minutemail.com"]);

const server = http.createServer((req, res) => {
  let body = "";
  req.on("data", (chunk) => (body += chunk));
  req.on("end", () => {
    // Only Passway, signing with the hook's secret, may ask.
    if (req.method !== "POST" || !verify(secret, req.headers, body)) {
      res.writeHead(401).end();
      return;
    }
    const { data } = JSON.parse(body);
    const domain = (data.user.email ?? "").split("@").pop().toLowerCase();
    const answer = DISPOSABLE.has(domain)
      ? { error: {
          message: "Disposable addresses can't sign up. Use an address you keep.",
          messages: { fr: "Les adresses jetables ne peuvent pas s'inscrire. Utilisez une adresse que vous gardez." },
        } }
      : { commands: [{ type: "allow" }] };
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer));
  });
});
server.listen(Number(process.env.PORT ?? 9001), "127.0.0.1", () => {
  console.log(`listening on ${server.address().port}`);
});
