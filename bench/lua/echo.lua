-- POST /echo with a 96-byte JSON body.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"id": 12345, "name": "benchmark", "tags": ["a", "b", "c"], "active": true, "score": 98, "k": 1}'
