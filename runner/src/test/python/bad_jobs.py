"""Python pipelines that ainative's job server must refuse or fail with a clear error, run by
PythonJobErrorsITCase (not on its own). Each exits non-zero with the error the Python user sees.

Usage: bad_jobs.py JOB_ENDPOINT EXPANSION_ENDPOINT CASE [ARG]
  unknown-urn           a primitive transform whose URN nothing implements
  unknown-environment   every Python transform in an environment type the runner cannot start
  unreachable-pool      EXTERNAL environment, worker pool at ARG (host:port nothing listens on)
  bad-config            cross-language RunInference with an unknown processor
"""
import sys

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.pvalue import PCollection
from apache_beam.transforms import environments

UNKNOWN_URN = "beam:transform:ainative-test:no-such-transform:v1"
UNKNOWN_ENV_URN = "beam:env:ainative-test:no-such-environment:v1"


class NoSuchPrimitive(beam.PTransform):
  """A primitive of a URN no runner or SDK harness implements."""

  def expand(self, pcoll):
    return PCollection.from_(pcoll)

  def to_runner_api_parameter(self, context):
    return UNKNOWN_URN, None


@environments.Environment.register_urn(UNKNOWN_ENV_URN, None)
class NoSuchEnvironment(environments.Environment):
  """An environment type the Python SDK lets through but no runner can start."""

  def to_runner_api_parameter(self, context):
    return UNKNOWN_ENV_URN, None

  @staticmethod
  def from_runner_api_parameter(payload, capabilities, artifacts, resource_hints, context):
    return NoSuchEnvironment(capabilities, artifacts, resource_hints)

  @classmethod
  def from_options(cls, options):
    return cls(capabilities=environments.python_sdk_capabilities(), artifacts=(),
               resource_hints={})


def main(argv):
  job_endpoint, expansion, case = argv[1:4]
  args = [
      "--runner=PortableRunner",
      "--job_endpoint=" + job_endpoint,
      "--parallelism=1",
      "--number_of_execution_retries=0",
  ]
  if case == "unreachable-pool":
    args += ["--environment_type=EXTERNAL", "--environment_config=" + argv[4]]
  elif case == "unknown-environment":
    args += ["--environment_type=" + UNKNOWN_ENV_URN]
  else:
    args += ["--environment_type=LOOPBACK"]
  with beam.Pipeline(options=PipelineOptions(args)) as p:
    words = p | "Words" >> beam.Create(["a", "b"]) | "Upper" >> beam.Map(str.upper)
    if case == "unknown-urn":
      words | "Mystery" >> NoSuchPrimitive()
    elif case == "bad-config":
      import ainative_beam
      p | "Bytes" >> beam.Create([b"x"]) | ainative_beam.RunInference(
          model_uri="/nowhere", processor="sentiment", expansion_service=expansion)
  print("UNEXPECTEDLY SUCCEEDED")


if __name__ == "__main__":
  main(sys.argv)
