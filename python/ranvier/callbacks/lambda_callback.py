"""``LambdaCallback``: a callback made of functions, one per hook."""

from __future__ import annotations

from ranvier.callbacks.callback import HOOKS, Callback


class LambdaCallback(Callback):
    """``LambdaCallback(on_epoch_begin=..., on_epoch_end=..., on_train_begin=..., on_train_end=...,
    on_train_batch_begin=..., on_train_batch_end=..., **more_hooks)``, each called as the hook is
    (``on_epoch_end(epoch, logs)``, ``on_train_end(logs)``). Keras 3's names; any other hook
    (``on_test_end=...``) may be given too. A name that is no hook is refused, not ignored."""

    def __init__(
        self,
        on_epoch_begin=None,
        on_epoch_end=None,
        on_train_begin=None,
        on_train_end=None,
        on_train_batch_begin=None,
        on_train_batch_end=None,
        **kwargs,
    ):
        super().__init__()
        unknown = sorted(set(kwargs) - set(HOOKS))
        if unknown:
            raise TypeError(f"[LambdaCallback] unknown hooks {unknown}; the hooks are: {', '.join(HOOKS)}")
        given = dict(
            on_epoch_begin=on_epoch_begin,
            on_epoch_end=on_epoch_end,
            on_train_begin=on_train_begin,
            on_train_end=on_train_end,
            on_train_batch_begin=on_train_batch_begin,
            on_train_batch_end=on_train_batch_end,
            **kwargs,
        )
        for hook, fn in given.items():
            if fn is None:
                continue
            if not callable(fn):
                raise TypeError(f"[LambdaCallback] {hook} must be callable, got {type(fn).__name__}")
            setattr(self, hook, fn)
