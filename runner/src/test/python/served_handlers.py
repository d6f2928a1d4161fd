"""The model handler of served_model_handler.py, importable by the pipeline's Python workers."""
import os
import signal
import time

import numpy as np

from apache_beam.ml.inference.sklearn_inference import SklearnModelHandlerNumpy


class ReportingModelHandler(SklearnModelHandlerNumpy):
  """Scikit-learn on numpy arrays, reporting which processes load it; kills or stalls one once.

  kill_after=K: the first process to run its K-th batch writes its pid to WORK_DIR/killed and
  kills itself. slow_ms=T: the first process to run its second batch writes WORK_DIR/slowed and
  sleeps T ms in it. slow_each_ms=T: every batch takes T ms more (so a run outlasts a restart).
  Each process writes its OPENBLAS_NUM_THREADS (or "unset") to WORK_DIR/loads/<pid> when it
  loads the model, and one line per batch to WORK_DIR/batches/<pid>.
  """

  def __init__(self, model_uri, work_dir, kill_after, slow_ms=0, slow_each_ms=0):
    super().__init__(model_uri)
    self._work_dir = work_dir
    self._kill_after = kill_after
    self._slow_ms = slow_ms
    self._slow_each_ms = slow_each_ms
    self._batches = 0

  def load_model(self):
    loads = os.path.join(self._work_dir, "loads")
    os.makedirs(loads, exist_ok=True)
    with open(os.path.join(loads, str(os.getpid())), "w") as f:
      f.write(os.environ.get("OPENBLAS_NUM_THREADS", "unset") + "\n")
    return super().load_model()

  def run_inference(self, batch, model, inference_args=None):
    self._batches += 1
    batches = os.path.join(self._work_dir, "batches")
    os.makedirs(batches, exist_ok=True)
    with open(os.path.join(batches, str(os.getpid())), "a") as f:
      f.write("%d\n" % len(batch))
    if self._kill_after and self._batches == self._kill_after:
      if _first(os.path.join(self._work_dir, "killed")):
        os.kill(os.getpid(), signal.SIGKILL)
    if self._slow_each_ms:
      time.sleep(self._slow_each_ms / 1000.0)
    if self._slow_ms and self._batches == 2 and _first(os.path.join(self._work_dir, "slowed")):
      time.sleep(self._slow_ms / 1000.0)
    return super().run_inference(batch, model, inference_args)


def _first(marker):
  """Creates marker with this process's pid; whether this call created it (once across processes)."""
  try:
    fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
  except FileExistsError:
    return False
  os.write(fd, str(os.getpid()).encode())
  os.close(fd)
  return True


def prediction(keyed):
  """(key, PredictionResult) -> (key, the prediction rounded to 6 places)."""
  key, result = keyed
  return key, round(float(np.asarray(result.inference).reshape(-1)[0]), 6)
