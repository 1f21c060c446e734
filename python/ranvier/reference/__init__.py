"""Plain NumPy versions of every op in ``ranvier.ops``, under the same names.

This is the specification: short, obviously correct, slow. Tests compare the
kernels with it (in float64) and check it by finite differences. One module
per kernel family; each lists its ops in ``__all__``.
"""

from ranvier.reference.activation import *  # noqa: F401,F403
from ranvier.reference.attention import *  # noqa: F401,F403
from ranvier.reference.conv import *  # noqa: F401,F403
from ranvier.reference.dense import *  # noqa: F401,F403
from ranvier.reference.dropout import *  # noqa: F401,F403
from ranvier.reference.embedding import *  # noqa: F401,F403
from ranvier.reference.losses import *  # noqa: F401,F403
from ranvier.reference.norm import *  # noqa: F401,F403
from ranvier.reference.optim import *  # noqa: F401,F403
from ranvier.reference.pool import *  # noqa: F401,F403
from ranvier.reference.rnn import *  # noqa: F401,F403
from ranvier.reference.softmax import *  # noqa: F401,F403
from ranvier.reference.spatial import *  # noqa: F401,F403
