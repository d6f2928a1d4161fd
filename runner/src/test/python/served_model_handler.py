"""A Beam Python pipeline whose scikit-learn RunInference runs in ainative's inference services.

The worker processes need this directory on their PYTHONPATH (for served_handlers).

Usage: python served_model_handler.py JOB_ENDPOINT WORK_DIR [--plain | --accelerator-hint] [--n=N]
       [--kill-after=K] [--slow-once-ms=T --timeout-ms=T] [--slow-each-ms=T]
       [--environment_type=T --environment_config=C]   (default: LOOPBACK)

Keyed inputs (k, [k]) go through Beam's RunInference with a scikit-learn model (y = 2x + 1),
wrapped in ainative_beam.Served(instances=2) (--plain: not; --accelerator-hint: Beam's accelerator
resource hint on it instead); assert_that checks that every key has exactly one prediction, and
the right one. Each process that loads the model writes its pid to WORK_DIR/loads/; --kill-after
and --slow-once-ms make one process die or stall once (see served_handlers.ReportingModelHandler);
--timeout-ms is the service's request timeout; --slow-each-ms slows every batch. When the job succeeded, prints one
"SERVED METRIC name=value" line per counter of the served stage's client, then
"SERVED PIPELINE OK".
"""
import os
import pickle
import sys

import numpy as np

import apache_beam as beam
import ainative_beam
from apache_beam.ml.inference.base import KeyedModelHandler
from apache_beam.ml.inference.base import RunInference
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.util import assert_that
from apache_beam.testing.util import equal_to
# A module of its own, not __main__: the workers (data DAG and services) unpickle the handler by
# reference and find it through their PYTHONPATH.
from served_handlers import ReportingModelHandler
from served_handlers import prediction


def main(argv):
  endpoint, work_dir = argv[1], argv[2]
  flags = dict(a[2:].split("=", 1) for a in argv[3:] if a.startswith("--") and "=" in a)
  plain = "--plain" in argv
  hinted = "--accelerator-hint" in argv
  n = int(flags.get("n", "2000"))
  kill_after = int(flags.get("kill-after", "0"))
  slow_ms = int(flags.get("slow-once-ms", "0"))
  timeout_ms = int(flags.get("timeout-ms", "120000"))
  slow_each_ms = int(flags.get("slow-each-ms", "0"))
  environment = [a for a in argv[3:] if a.startswith("--environment_")] or ["--environment_type=LOOPBACK"]

  from sklearn.linear_model import LinearRegression
  model_path = os.path.join(work_dir, "model.pkl")
  with open(model_path, "wb") as f:
    pickle.dump(LinearRegression().fit(np.array([[0.0], [1.0]]), np.array([1.0, 3.0])), f)

  options = PipelineOptions(["--runner=PortableRunner", "--job_endpoint=" + endpoint] + environment + ["--parallelism=1"])
  handler = KeyedModelHandler(ReportingModelHandler(model_path, work_dir, kill_after, slow_ms, slow_each_ms))
  inference = RunInference(handler)
  if hinted:
    inference = inference.with_resource_hints(accelerator="type:any;count:1")
  elif not plain:
    inference = ainative_beam.Served(
        inference, instances=2, max_batch_size=32, max_batching_delay_ms=20, timeout_ms=timeout_ms)
  p = beam.Pipeline(options=options)
  predictions = (p | "Inputs" >> beam.Create([(k, np.array([float(k)])) for k in range(n)])
                   | "Predict" >> inference
                   | "Round" >> beam.Map(prediction))
  assert_that(predictions, equal_to([(k, float(2 * k + 1)) for k in range(n)]), label="OnePredictionPerInput")
  result = p.run()
  state = result.wait_until_finish()
  if state != "DONE":
    sys.exit("the job ended in state %s" % state)
  # The served stage's client counts what it did (runner metrics, reported like user counters).
  counters = result.metrics().query(MetricsFilter().with_namespace("ainative.served_stage"))["counters"]
  totals = {}
  for counter in counters:
    totals[counter.key.metric.name] = totals.get(counter.key.metric.name, 0) + (counter.attempted or 0)
  for name in sorted(totals):
    print("SERVED METRIC %s=%d" % (name, totals[name]))
  print("SERVED PIPELINE OK")


if __name__ == "__main__":
  main(sys.argv)
