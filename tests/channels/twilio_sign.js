// Signs Twilio webhook requests with the official `twilio` npm package, as Twilio does, for the
// tests (they must not trust the project's own signing code). Reads {"token", "requests": [{"url",
// "params"}]} on standard input; prints the JSON array of X-Twilio-Signature values.
// Run with NODE_PATH=tests/node/node_modules (scripts/setup-node installs it).
const twilio = require("twilio");

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const { token, requests } = JSON.parse(input);
  const signatures = requests.map((r) => twilio.getExpectedTwilioSignature(token, r.url, r.params));
  process.stdout.write(JSON.stringify(signatures));
});
