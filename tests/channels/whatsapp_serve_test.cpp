// serve tests: next
