"""ainative for Beam Python: RunInference served by the ainative runner's inference services.

    import ainative_beam

    labels = images | ainative_beam.RunInference(
        model_uri="/models/shapes", processor="image_classifier",
        image_size=(32, 32), image_channels=1,
        expansion_service="localhost:8097")

See README.md next to this package, and ainative_beam.inference.
"""

from ainative_beam.inference import DEFAULT_EXPANSION_SERVICE
from ainative_beam.inference import URN
from ainative_beam.inference import RunInference
from ainative_beam.inference import RunInferenceOnTensors
from ainative_beam.inference import row_to_array
from ainative_beam.inference import tensor_to_bytes
from ainative_beam.served import ACCELERATOR_HINT
from ainative_beam.served import ANNOTATION as SERVED_ANNOTATION
from ainative_beam.served import Served

__all__ = [
    "ACCELERATOR_HINT",
    "DEFAULT_EXPANSION_SERVICE",
    "URN",
    "RunInference",
    "RunInferenceOnTensors",
    "SERVED_ANNOTATION",
    "Served",
    "row_to_array",
    "tensor_to_bytes",
]
