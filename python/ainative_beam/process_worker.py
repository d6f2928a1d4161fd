"""A Beam Python SDK worker for the PROCESS environment, without Beam's container boot program.

Beam's PROCESS environment starts a command with the flags of the SDK container's ``boot``
executable (``--id``, ``--provision_endpoint``); ``boot`` asks the provision service for the
control endpoint and starts the SDK harness. ``boot`` is a Go program shipped in the SDK
container images, not by pip. This module does the same in Python: it reads the control endpoint
from the provision service and runs the Python SDK harness against it, in the interpreter it is
started with. It does not install staged
artifacts (the interpreter must already have the pipeline's dependencies) and the harness runs
with its default options (as in Beam's own worker pool).

Start it through the executable python/bin/ainative-python-worker, e.g.
  --environment_type=PROCESS
  --environment_config='{"command": "/path/to/python/bin/ainative-python-worker",
                         "env": {"AINATIVE_PYTHON": "/path/to/venv/bin/python"}}'
"""
import argparse
import logging
import sys

import grpc
from apache_beam.portability.api import beam_provision_api_pb2
from apache_beam.portability.api import beam_provision_api_pb2_grpc
from apache_beam.runners.worker.sdk_worker import SdkHarness


def main(argv):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--id", required=True, help="worker id")
  parser.add_argument("--provision_endpoint", required=True, help="host:port of the provision service")
  parser.add_argument("--semi_persist_dir", help="unused")
  args, _ = parser.parse_known_args(argv)
  logging.basicConfig(level=logging.INFO)
  with grpc.insecure_channel(args.provision_endpoint) as channel:
    info = beam_provision_api_pb2_grpc.ProvisionServiceStub(channel).GetProvisionInfo(
        beam_provision_api_pb2.GetProvisionInfoRequest(), metadata=[("worker_id", args.id)]).info
  if not info.control_endpoint.url:
    sys.exit("the provision service at %s gave no control endpoint" % args.provision_endpoint)
  SdkHarness(info.control_endpoint.url, worker_id=args.id).run()


if __name__ == "__main__":
  main(sys.argv[1:])
