"""The model handler of served_model_handler.py, importable by the pipeline's Python workers."""
import os
import signal

import numpy as np

from apache_beam.ml.inference.sklearn_inference import SklearnModelHandlerNumpy


class ReportingModelHandler(SklearnModelHandlerNumpy):
  """Scikit-learn on numpy arrays, reporting which processes load it, and killing one once."""

  def __init__(self, model_uri, work_dir, kill_after):
    super().__init__(model_uri)
    self._work_dir = work_dir
    self._kill_after = kill_after
    self._batches = 0

  def load_model(self):
    loads = os.path.join(self._work_dir, "loads")
    os.makedirs(loads, exist_ok=True)
    with open(os.path.join(loads, str(os.getpid())), "w") as f:
      f.write("loaded\n")
    return super().load_model()

  def run_inference(self, batch, model, inference_args=None):
    self._batches += 1
    if self._kill_after and self._batches == self._kill_after:
      try:
        fd = os.open(os.path.join(self._work_dir, "killed"), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
      except FileExistsError:
        fd = None
      if fd is not None:
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        os.kill(os.getpid(), signal.SIGKILL)
    return super().run_inference(batch, model, inference_args)


def prediction(keyed):
  """(key, PredictionResult) -> (key, the prediction rounded to 6 places)."""
  key, result = keyed
  return key, round(float(np.asarray(result.inference).reshape(-1)[0]), 6)
