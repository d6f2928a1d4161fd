"""Served stages: a Python transform run by the ainative runner inside an inference service.

    import ainative_beam
    from apache_beam.ml.inference.base import RunInference

    predictions = examples | ainative_beam.Served(
        RunInference(SklearnModelHandlerNumpy(model_uri)), instances=2)

The wrapped transform (one input, one output; for instance Beam's own ``RunInference`` with a
Python ``ModelHandler``) becomes a composite that carries the annotation ``ANNOTATION``. On other
runners that annotation means nothing and the transform runs where it is. The ainative runner
takes the composite out of the pipeline's fused stages and runs it in RpcOperators: Flink tasks
in their own pipelined region, each hosting a Python SDK worker of the pipeline's environment;
the pipeline sends them batches of elements. A failed instance restarts alone while the others
serve, and the data pipeline does not restart.

The wrapped transform must be stateless and take no side inputs (no GroupByKey, state, timers or
side inputs inside); the runner refuses the pipeline otherwise, naming the transform.
"""

import copy

import apache_beam as beam
from apache_beam.ml.inference.base import RunInference

# The annotation key the runner looks for; its value is the service's settings,
# ``key=value`` pairs separated by ``;`` (see Served).
ANNOTATION = "ainative:served_stage"
# Beam's accelerator resource hint. The runner also serves the outermost transform that carries it
# (``transform.with_resource_hints(accelerator=...)``), with one instance unless Served gives
# settings; a hint on the whole pipeline (``--resource_hints``) serves nothing.
ACCELERATOR_HINT = "beam:resources:accelerator:v1"


def _positive(name, value):
  if isinstance(value, bool) or not isinstance(value, int) or value < 1:
    raise ValueError("%s must be a positive int, got %r" % (name, value))
  return value


class Served(beam.PTransform):
  """Runs ``transform`` in an ainative inference service of ``instances`` Flink tasks.

  Arguments:
    transform: a PTransform of one input PCollection to one output PCollection.
    instances: how many service instances (each with its own Python worker) run it.
    max_batch_size: at most this many elements go to an instance in one request (one bundle).
    max_batching_delay_ms: how long the pipeline waits to fill a request before sending it.
    timeout_ms: how long one request may take before it is sent again elsewhere.
    threads: with a ``PROCESS`` environment, each instance's worker process starts with
      ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS`` and ``MKL_NUM_THREADS`` set to this (unless the
      environment's ``env`` sets them), so that instances sharing a machine do not each start a
      thread per core in their numeric libraries.

  Where ``transform`` is a ``RunInference``, each request reaches the model as one batch of up to
  ``max_batch_size`` elements (the model handler's own ``max_batch_size`` still bounds it).
  """

  def __init__(self, transform, instances=1, max_batch_size=64, max_batching_delay_ms=50,
               timeout_ms=120000, threads=1):
    super().__init__()
    if not isinstance(transform, beam.PTransform):
      raise TypeError("Served needs a PTransform, got %r" % (transform,))
    self._transform = transform
    self._settings = {
        "instances": _positive("instances", instances),
        "max_batch_size": _positive("max_batch_size", max_batch_size),
        "max_batching_delay_ms": _positive("max_batching_delay_ms", max_batching_delay_ms),
        "timeout_ms": _positive("timeout_ms", timeout_ms),
        "threads": _positive("threads", threads),
    }

  def expand(self, pcoll):
    if not isinstance(pcoll, beam.pvalue.PCollection):
      raise TypeError("Served takes one PCollection, got %r" % (pcoll,))
    return pcoll | _batched_per_request(self._transform, self._settings["max_batch_size"])

  def annotations(self):
    settings = ";".join("%s=%d" % item for item in sorted(self._settings.items()))
    return dict(super().annotations(), **{ANNOTATION: settings.encode("utf-8")})

  def default_label(self):
    return "Served(%s)" % self._transform.label


def _batched_per_request(transform, request_size):
  """``transform``, where it is a RunInference, with its model handler batching whole requests.

  The service runs each request as one bundle. RunInference's BatchElements sizes its batches
  from the time earlier batches took, starting at one element and growing within a bundle, so
  bundles of ``request_size`` elements would reach the model in many small batches. Here a
  request reaches the model as one batch (the handler's own ``max_batch_size`` still bounds it).
  Other transforms are returned as they are.
  """
  if not isinstance(transform, RunInference):
    return transform
  handler = getattr(transform, "_model_handler", None)
  if handler is None or handler.should_skip_batching():
    return transform
  kwargs = dict(handler.batch_elements_kwargs() or {})
  size = min(request_size, kwargs.get("max_batch_size", request_size))
  kwargs.update(min_batch_size=size, max_batch_size=size)
  handler = copy.copy(handler)
  # An instance attribute in front of the class's method; RunInference reads it at expansion. A
  # dict's own method, so that workers unpickling the handler need nothing of this package.
  handler.batch_elements_kwargs = kwargs.copy
  transform = copy.copy(transform)
  transform._model_handler = handler
  return transform
