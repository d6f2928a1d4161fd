"""Cross-language RunInference: a thin Python face on ainative's Java transform.

The Java side (io.ainative.transforms.xlang.RunInferenceExternal, offered by the expansion
service of ainative's job server) builds the same RunInference a Java pipeline applies; the
ainative runner serves it from inference services (RpcOperators). Python only sends a
configuration: a model location the runner can read, and the name of a built-in processor,
because Python cannot send Java pre- and post-processing functions.
"""

import typing

import numpy as np

import apache_beam as beam
from apache_beam.transforms.external import ExternalTransform
from apache_beam.transforms.external import NamedTupleBasedPayloadBuilder

URN = "beam:external:ainative:run_inference:v1"
DEFAULT_EXPANSION_SERVICE = "localhost:8097"
PROCESSORS = ("image_classifier", "float32_tensor")


class _Config(typing.NamedTuple):
  """The payload row; the field names are the Java configuration's (see RunInferenceExternal)."""
  model_uri: str
  processor: str
  model_name: typing.Optional[str]
  architecture: typing.Optional[str]
  device: typing.Optional[str]
  image_height: typing.Optional[int]
  image_width: typing.Optional[int]
  image_channels: typing.Optional[int]
  softmax: typing.Optional[bool]
  tensor_shape: typing.Optional[typing.Sequence[int]]
  min_batch_size: typing.Optional[int]
  max_batch_size: typing.Optional[int]
  max_batching_delay_ms: typing.Optional[int]
  instances: typing.Optional[int]
  timeout_ms: typing.Optional[int]
  ordered: typing.Optional[bool]
  with_failures: typing.Optional[bool]


def _optional_int(name, value):
  if value is None:
    return None
  if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
    raise TypeError("%s must be an int, got %r" % (name, value))
  return int(value)


class RunInference(beam.PTransform):
  """Runs a model on every element through ainative's RunInference (Java, cross-language).

  Input elements: ``bytes`` (an encoded PNG/JPEG image for ``image_classifier``; the raw
  little-endian float32 tensor for ``float32_tensor``), or ``(key, bytes)`` pairs, whose key is
  kept with its result.

  Output: one ``beam.Row`` per input (``(key, Row)`` for pairs), in no particular order unless
  ``ordered=True``:

    image_classifier   label: int, score: float, probabilities: list of float
    float32_tensor     shape: list of int, values: list of float (see row_to_array)

  With ``with_failures=True`` the result is a dict: ``"output"`` as above and ``"failures"``, a
  ``Row(step, error, input)`` (or ``(key, Row)``) per element that failed (it does not fail the
  pipeline then).

  Arguments:
    model_uri: the model, as the runner's machines see it: a DJL model directory or a
      TorchScript ``.pt`` file.
    processor: ``"image_classifier"`` or ``"float32_tensor"``.
    expansion_service: ``host:port`` of the expansion service (ainative's job server runs one,
      port 8097 by default).
    model_name: DJL model name (file prefix), when it is not the directory's name.
    architecture: for DJL parameter files (``.params``): the name of a Java ModelArchitecture
      registered on the runner's classpath.
    device: ``cpu`` (default), ``gpu``, ``gpu:N`` or ``auto``.
    image_size: ``(height, width)``: images are resized to it (image_classifier).
    image_channels: 1 (grey) or 3 (RGB, default) (image_classifier).
    softmax: whether the model's outputs are logits to turn into probabilities (default True).
    tensor_shape: the shape of one input tensor, without the batch dimension (float32_tensor).
    min_batch_size, max_batch_size, max_batching_delay_ms: dynamic batching bounds.
    instances: how many inference service instances serve the model.
    timeout_ms: how long one request may take before it is retried.
    ordered: results in input order.
    with_failures: add the failures output.

  Bad values are refused when the pipeline is built (the expansion fails with a message naming
  the field).
  """

  def __init__(
      self,
      model_uri,
      processor,
      expansion_service=DEFAULT_EXPANSION_SERVICE,
      model_name=None,
      architecture=None,
      device=None,
      image_size=None,
      image_channels=None,
      softmax=None,
      tensor_shape=None,
      min_batch_size=None,
      max_batch_size=None,
      max_batching_delay_ms=None,
      instances=None,
      timeout_ms=None,
      ordered=None,
      with_failures=False):
    super().__init__()
    if image_size is not None:
      if len(image_size) != 2:
        raise ValueError("image_size must be (height, width), got %r" % (image_size,))
      height, width = (_optional_int("image_size", d) for d in image_size)
    else:
      height = width = None
    self._config = _Config(
        model_uri=str(model_uri),
        processor=processor,
        model_name=model_name,
        architecture=architecture,
        device=device,
        image_height=height,
        image_width=width,
        image_channels=_optional_int("image_channels", image_channels),
        softmax=softmax,
        tensor_shape=(
            None if tensor_shape is None else
            [_optional_int("tensor_shape", d) for d in tensor_shape]),
        min_batch_size=_optional_int("min_batch_size", min_batch_size),
        max_batch_size=_optional_int("max_batch_size", max_batch_size),
        max_batching_delay_ms=_optional_int("max_batching_delay_ms", max_batching_delay_ms),
        instances=_optional_int("instances", instances),
        timeout_ms=_optional_int("timeout_ms", timeout_ms),
        ordered=ordered,
        with_failures=bool(with_failures))
    self._expansion_service = expansion_service

  def expand(self, pcoll):
    return pcoll | ExternalTransform(
        URN, NamedTupleBasedPayloadBuilder(self._config), self._expansion_service)


def tensor_to_bytes(array):
  """A numpy array as the bytes ``float32_tensor`` takes: float32, little-endian, row-major."""
  return np.ascontiguousarray(array, dtype="<f4").tobytes()


def row_to_array(row):
  """A ``float32_tensor`` result row as a float32 numpy array of its shape."""
  return np.asarray(row.values, dtype=np.float32).reshape([int(d) for d in row.shape])


class RunInferenceOnTensors(beam.PTransform):
  """``float32_tensor`` RunInference from numpy arrays to numpy arrays.

  Elements: numpy arrays of ``tensor_shape`` (or ``(key, array)`` pairs with ``keyed=True``);
  results: the model's first output for each, as a float32 array (or ``(key, array)``). Other
  arguments as RunInference's (``with_failures`` is not offered here: use RunInference).
  """

  def __init__(self, model_uri, tensor_shape, keyed=False, **kwargs):
    super().__init__()
    if "with_failures" in kwargs:
      raise ValueError("RunInferenceOnTensors has no failure output; use RunInference")
    self._keyed = keyed
    self._inference = RunInference(
        model_uri, "float32_tensor", tensor_shape=tensor_shape, **kwargs)

  def expand(self, pcoll):
    if self._keyed:
      key_type = _key_type(pcoll)
      raw = pcoll | "ToBytes" >> beam.Map(
          lambda kv: (kv[0], tensor_to_bytes(kv[1]))).with_output_types(
              typing.Tuple[key_type, bytes])
      rows = raw | "RunInference" >> self._inference
      return rows | "ToArrays" >> beam.Map(lambda kv: (kv[0], row_to_array(kv[1])))
    raw = (pcoll | "ToBytes" >> beam.Map(tensor_to_bytes).with_output_types(bytes))
    return (raw | "RunInference" >> self._inference
                | "ToArrays" >> beam.Map(row_to_array))


def _key_type(pcoll):
  """The key type of a PCollection of pairs; Java must be able to decode the key."""
  element_type = pcoll.element_type
  tuple_types = getattr(element_type, "tuple_types", None)
  if not tuple_types or len(tuple_types) != 2 or tuple_types[0] is typing.Any:
    raise ValueError(
        "keyed RunInferenceOnTensors needs (key, array) pairs with a known key type (e.g. str "
        "or int); %s has element type %s: give it with .with_output_types(Tuple[str, ...])"
        % (pcoll, element_type))
  return tuple_types[0]
