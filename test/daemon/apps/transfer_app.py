"""Large transfers for the bounded-memory test (test/daemon/transfer_test.cpp).

/upload      reads wsgi.input to the end; answers "<bytes> <crc32>\n"
/download    ?mib=N: N times the 1 MiB pattern block, with Content-Length
/slow        ?mib=N: like /download, for a client that reads slowly
/sleep       ?ms=N: answers "slept" after N ms
"""
import time
import zlib

# The pattern the C++ side generates too: byte i of a block.
BLOCK = bytes(((i * 131) + (i >> 8)) & 0xFF for i in range(1 << 20))


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path == "/upload":
        stream = environ["wsgi.input"]
        crc = 0
        total = 0
        while True:
            chunk = stream.read(1 << 18)
            if not chunk:
                break
            crc = zlib.crc32(chunk, crc)
            total += len(chunk)
        body = f"{total} {crc}\n".encode()
        start_response("200 OK", [("Content-Type", "text/plain"),
                                  ("Content-Length", str(len(body)))])
        return [body]
    if path in ("/download", "/slow"):
        query = dict(p.split("=", 1) for p in environ.get("QUERY_STRING", "").split("&") if "=" in p)
        mib = int(query.get("mib", "1"))
        start_response("200 OK", [("Content-Type", "application/octet-stream"),
                                  ("Content-Length", str(mib << 20))])
        return (BLOCK for _ in range(mib))
    if path == "/sleep":
        query = dict(p.split("=", 1) for p in environ.get("QUERY_STRING", "").split("&") if "=" in p)
        time.sleep(int(query.get("ms", "100")) / 1000)
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "6")])
        return [b"slept\n"]
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not found\n"]
