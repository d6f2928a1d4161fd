"""One Beam Python RunInference pipeline, timed, for PythonServedBenchmark.

Usage: python served_inference.py JOB_ENDPOINT WORK_DIR N MODE [--instances=I] [--max_batch_size=B]
       [--parallelism=P] [--sdk_worker_parallelism=W]
       [--environment_type=T --environment_config=C]        (default: LOOPBACK)

N keyed numpy vectors of 64 floats go through Beam's RunInference with a scikit-learn MLP
(64 -> 256 -> 256 -> 1) behind a KeyedModelHandler. MODE is ``unmarked`` (the RunInference runs in
the pipeline's own stages) or ``served`` (wrapped in ainative_beam.Served(instances=I, max_batch_size=B)). The job
counts its predictions and fails unless there are N. Prints ``RESULT <seconds> <N>``: the wall time
from submission until the job is done.
"""
import os
import pickle
import sys
import time

import numpy as np

import apache_beam as beam
from apache_beam.ml.inference.base import KeyedModelHandler
from apache_beam.ml.inference.base import RunInference
from apache_beam.ml.inference.sklearn_inference import SklearnModelHandlerNumpy
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.util import assert_that
from apache_beam.testing.util import equal_to

DIMENSION = 64
SHARDS = 64


def make_model(path):
  from sklearn.neural_network import MLPRegressor
  rng = np.random.default_rng(7)
  model = MLPRegressor(hidden_layer_sizes=(256, 256), max_iter=5, random_state=7)
  model.fit(rng.standard_normal((512, DIMENSION)), rng.standard_normal(512))
  with open(path, "wb") as f:
    pickle.dump(model, f)


# The workers unpickle these functions without this module's globals: they take what they need.
def shard(index, n, shards):
  return range(index * n // shards, (index + 1) * n // shards)


def example(key, dimension):
  import numpy
  return key, numpy.full(dimension, (key % 1000) / 1000.0)


def main(argv):
  endpoint, work_dir, n, mode = argv[1], argv[2], int(argv[3]), argv[4]
  if mode not in ("unmarked", "served"):
    sys.exit("MODE must be unmarked or served, got %r" % mode)
  flags = dict(a[2:].split("=", 1) for a in argv[5:] if a.startswith("--") and "=" in a)
  instances = int(flags.get("instances", "2"))
  batch = int(flags.get("max_batch_size", "64"))
  parallelism = flags.get("parallelism", "2")
  environment = [a for a in argv[5:] if a.startswith("--environment_")] or ["--environment_type=LOOPBACK"]
  environment += [a for a in argv[5:] if a.startswith("--sdk_worker_parallelism=")]

  model_path = os.path.join(work_dir, "mlp.pkl")
  make_model(model_path)
  inference = RunInference(KeyedModelHandler(SklearnModelHandlerNumpy(model_uri=model_path)))
  if mode == "served":
    import ainative_beam
    inference = ainative_beam.Served(inference, instances=instances, max_batch_size=batch)

  options = PipelineOptions(
      ["--runner=PortableRunner", "--job_endpoint=" + endpoint, "--parallelism=" + parallelism] + environment)
  p = beam.Pipeline(options=options)
  count = (p
           | "Shards" >> beam.Create(range(SHARDS))
           | "Keys" >> beam.FlatMap(shard, n, SHARDS)
           | "Spread" >> beam.Reshuffle()
           | "Examples" >> beam.Map(example, DIMENSION)
           | "Predict" >> inference
           | "Count" >> beam.combiners.Count.Globally())
  assert_that(count, equal_to([n]), label="OnePredictionPerInput")
  start = time.monotonic()
  state = p.run().wait_until_finish()
  seconds = time.monotonic() - start
  if state != "DONE":
    sys.exit("the job ended in state %s" % state)
  print("RESULT %.3f %d" % (seconds, n))


if __name__ == "__main__":
  main(sys.argv)
