#!/usr/bin/python3
"""An SMTP server for the notifier's tests: Debian's aiosmtpd with STARTTLS required and AUTH
(login "notify", password "s3cret") allowed only over TLS. Each message it accepts is appended to
OUT as one JSON line (envelope, decoded headers and body, whether TLS and AUTH were used).

    smtp_sink.py CERT KEY OUT [--fail-first N]

Prints "PORT <n>" once it listens; stops when its standard input closes. With --fail-first N it
answers the first N messages "451 try again later" (a transient failure the sender must retry).
"""
import argparse
import asyncio
import email
import email.policy
import json
import socket
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sink:
    def __init__(self, out, fail_first):
        self.out = out
        self.fail_left = fail_first

    async def handle_DATA(self, server, session, envelope):
        if self.fail_left > 0:
            self.fail_left -= 1
            return "451 4.3.0 try again later"
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "from": str(msg["from"]),
            "to": str(msg["to"]),
            "subject": str(msg["subject"]),
            "content_type": msg.get_content_type(),
            "charset": msg.get_content_charset(),
            "notice_id": str(msg["X-Tezgah-Notice-Id"]),
            "body": msg.get_content(),
            "tls": session.ssl is not None,
            "authenticated": bool(getattr(session, "authenticated", False)),
        }
        with open(self.out, "a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
        return "250 OK"


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b"notify" and auth_data.password == b"s3cret"
    return AuthResult(success=ok, handled=False)  # a failure is answered 535


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("cert")
    parser.add_argument("key")
    parser.add_argument("out")
    parser.add_argument("--fail-first", type=int, default=0)
    args = parser.parse_args()

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)
    port = free_port()
    controller = Controller(
        Sink(args.out, args.fail_first),
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=authenticate,
        auth_require_tls=True,
    )
    controller.start()
    print("PORT", port, flush=True)
    sys.stdin.read()  # until the test closes our standard input
    controller.stop()


if __name__ == "__main__":
    main()
