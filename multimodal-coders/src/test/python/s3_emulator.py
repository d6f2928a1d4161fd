"""S3 emulator for S3FileSystemObjectStoreITCase (started by the Java test, not on its own).

Usage: s3_emulator.py

Serves moto's S3 (the same server as `moto_server`) on 127.0.0.1, on a port the kernel picks,
so two test runs never race for one. Its first line on standard output is the protocol:
  port N          listening on 127.0.0.1:N (the socket is bound before this line is written)
  missing: WHAT   moto or its server extras are not installed (exit status 3)
It serves until its standard input ends: the test closes that pipe to stop it, and if the test
JVM dies without closing it, the kernel closes it, so the emulator never outlives the test.
"""

import sys


def main():
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as e:
        print("missing: %s (pip install 'moto[server]')" % e, flush=True)
        sys.exit(3)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    print("port %d" % server.get_host_and_port()[1], flush=True)
    sys.stdin.read()
    server.stop()


if __name__ == "__main__":
    main()
