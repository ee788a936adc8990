// Writes signed Twilio webhook requests for scripts/bench (--only twilio): one line per request,
// "<X-Twilio-Signature>\t<form body>", each with its own MessageSid, signed by the official
// `twilio` npm package over URL. Usage: node twilio_requests.js TOKEN URL COUNT THREADS > FILE
// (NODE_PATH=tests/node/node_modules). Request i belongs to wrk thread i % THREADS.
const twilio = require("twilio");

const [token, url, countText, threadsText] = process.argv.slice(2);
const count = Number(countText);
const threads = Number(threadsText);
const questions = [
  "saten gecelik ne kadar, stokta var mı?", "peki bordo olanı?", "kargo ücreti ne kadar?",
  "iade koşulları neler", "pijamalarınız neler", "kadife sabahlık fiyatı", "How much is the velvet robe?",
  "kaçta açıksınız", "çocuk pijama stokta var mı", "merhaba",
];
const users = 500;
const lines = [];
for (let i = 0; i < count; i++) {
  const thread = i % threads;
  const n = Math.floor(i / threads);
  const sid = "SM" + i.toString(16).padStart(32, "0");
  const from = "whatsapp:+90555" + String(thread).padStart(2, "0") + String(n % users).padStart(5, "0");
  const params = {
    MessageSid: sid, SmsMessageSid: sid, AccountSid: "AC0123456789abcdef0123456789abcdef",
    From: from, To: "whatsapp:+14155238886", Body: questions[n % questions.length], NumMedia: "0",
    ProfileName: "Bench", WaId: from.slice(10), ApiVersion: "2010-04-01",
  };
  const body = new URLSearchParams(params).toString();
  lines.push(twilio.getExpectedTwilioSignature(token, url, params) + "\t" + body);
}
process.stdout.write(lines.join("\n") + "\n");
