"""Array-level API: arrays in, arrays out (NumPy -> CPU kernels, CuPy -> GPU).

Each op routes its call to the compiled module that ``ranvier.backend`` picks
for its first array; that module checks every argument (errors name the op
and the argument, see docs/DESIGN.md), allocates the outputs and runs the
kernel. ``ranvier.reference`` holds the plain NumPy specification of every op
under the same name. One module per kernel family; each lists its ops in
``__all__``.
"""

from ranvier.ops.activation import *  # noqa: F401,F403
from ranvier.ops.attention import *  # noqa: F401,F403
from ranvier.ops.conv import *  # noqa: F401,F403
from ranvier.ops.dense import *  # noqa: F401,F403
from ranvier.ops.dropout import *  # noqa: F401,F403
from ranvier.ops.embedding import *  # noqa: F401,F403
from ranvier.ops.losses import *  # noqa: F401,F403
from ranvier.ops.norm import *  # noqa: F401,F403
from ranvier.ops.optim import *  # noqa: F401,F403
from ranvier.ops.pool import *  # noqa: F401,F403
from ranvier.ops.rnn import *  # noqa: F401,F403
from ranvier.ops.softmax import *  # noqa: F401,F403
from ranvier.ops.spatial import *  # noqa: F401,F403
