"""Callbacks (Keras 3's names, arguments and behaviour): hooks called by ``fit``, ``evaluate`` and ``predict``.

Subclass ``Callback`` and override any of the ``on_*`` methods; ``self.model``
is the model being trained and ``self.params`` holds ``epochs``, ``steps`` and
``verbose``. A callback stops training by setting ``self.model.stop_training = True``.
One callback per file.
"""

from ranvier.callbacks.backup_and_restore import BackupAndRestore
from ranvier.callbacks.callback import Callback
from ranvier.callbacks.callback_list import CallbackList
from ranvier.callbacks.csv_logger import CSVLogger
from ranvier.callbacks.early_stopping import EarlyStopping
from ranvier.callbacks.history import History
from ranvier.callbacks.lambda_callback import LambdaCallback
from ranvier.callbacks.learning_rate_scheduler import LearningRateScheduler
from ranvier.callbacks.model_checkpoint import ModelCheckpoint
from ranvier.callbacks.progbar_logger import ProgbarLogger
from ranvier.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau
from ranvier.callbacks.tensorboard import TensorBoard
from ranvier.callbacks.terminate_on_nan import TerminateOnNaN

__all__ = [
    "BackupAndRestore",
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "TensorBoard",
    "TerminateOnNaN",
]
