# One chat message to each tenant shop-FROM..shop-TO (five-digit numbers), in order, on one
# keep-alive connection, for scripts/bench --only tenants. Prints how many were answered 200.
# Usage: python3 ask_tenants.py PORT FROM TO
import http.client
import json
import sys

port, first, last = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
body = json.dumps({"text": "saten gecelik ne kadar", "user_id": "u"})
answered = 0
for i in range(first, last + 1):
    connection.request("POST", "/v1/tenants/shop-%05d/chat" % i, body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    response.read()
    answered += response.status == 200
print(answered)
