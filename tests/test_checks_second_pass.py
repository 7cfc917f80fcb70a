"""The checks' second pass (issue 10): a right cell is never blamed for an earlier cell's
bug, a bad learning rate is B19 and not a bug in the code, and the contract's corners are
probed. Independent oracles where the dependencies give one (scipy, scikit-learn)."""

import numpy as np
import pytest
from scipy import special
from sklearn.preprocessing import StandardScaler

from nnlab.checks import (
    CATALOGUE,
    REGISTRY,
    CheckFailed,
    _core,
    check_gradient_check,
    check_softmax_cross_entropy,
    check_standardizer,
    check_train_neuron,
    check_train_xor,
)
from nnlab.checks.zoo import corpus, load
from nnlab.gradcheck import network_gradient_report
from nnlab.layers import Dense, Tanh
from nnlab.losses import softmax_cross_entropy
from nnlab.network import Sequential
from nnlab.preprocessing import Standardizer


def test_catalogue_has_course_md_words_for_b13_and_b19():
    assert "printed cost settles near 0.5" in CATALOGUE["B13"][1]
    assert "pushed to one end" in CATALOGUE["B13"][1]
    assert CATALOGUE["B19"][0].startswith("learning rate too large")
    assert "not a bug in the code" in CATALOGUE["B19"][0]
    CheckFailed("x", "B19")  # a valid id


# --------------------------------------------------------------------------- localisation

def test_right_loop_on_a_per_sample_db_passes_and_names_that_cell(capsys):
    train = corpus.cell(corpus._NEURON + corpus._GRADS_PER_SAMPLE_DB + corpus._TRAIN,
                        "train_neuron")
    mine = train.__globals__["neuron_gradients"]
    check_train_neuron(train)
    out = capsys.readouterr().out
    assert "this cell is right; `neuron_gradients` has bug B1: fix it first" in out
    # the student's function is back in the namespace after the check swapped it out
    assert train.__globals__["neuron_gradients"] is mine


def test_a_right_loop_and_a_clipping_loss_blame_the_overflowing_forward(capsys):
    # issue 10's case: a step so large that z overflows; the loss clips as it should, the
    # overflow is neuron_forward's exp(z) / (1 + exp(z)), and nothing is told to clip
    forward = corpus._NEURON.replace("return expit(X @ w + b)",
                                     "z = X @ w + b\n    return np.exp(z) / (1 + np.exp(z))")
    train = corpus.cell(forward + corpus._TRAIN.replace("lr=1.0", "lr=1e6"), "train_neuron")
    check_train_neuron(train)
    out = capsys.readouterr().out
    assert "this cell is right; `neuron_forward` has bug B17: fix it first" in out
    assert "clip" not in out.lower()


def test_wrong_loop_on_a_wrong_component_is_named_by_its_own_bug():
    train = corpus.cell(corpus._NEURON + corpus._GRADS_PER_SAMPLE_DB
                        + corpus._TRAIN.replace("w = w - lr * dw", "w = w - lr * w"),
                        "train_neuron")
    with pytest.raises(CheckFailed) as info:
        check_train_neuron(train)
    assert info.value.bug == "B12" and "w -= lr * dw" in info.value.message


def test_bias_only_sign_flip_points_at_the_bias_line():
    train = corpus.cell(corpus._NEURON + corpus._TRAIN.replace("b = b - lr * db",
                                                               "b = b + lr * db"),
                        "train_neuron")
    with pytest.raises(CheckFailed) as info:
        check_train_neuron(train)
    msg = info.value.message
    assert info.value.bug == "B15"
    assert "`b -= lr * db`" in msg and "The update of w is right" in msg


def test_gradient_check_on_a_row_only_numerical_gradient_blames_that_cell(capsys):
    gc = corpus.cell(corpus._GC + corpus._NUMGRAD_ROWS + corpus._GRADCHECK, "gradient_check")
    check_gradient_check(gc)
    assert "`numerical_gradient` has bug" in capsys.readouterr().out or \
        "`numerical_gradient` is wrong" in " ".join(_core.NOTES)


# --------------------------------------------------------------------------- B19

@pytest.mark.parametrize("lr", ["60.0", "0.01"])
def test_train_xor_names_a_bad_default_rate_b19(lr):
    train = corpus.cell(corpus._XOR.replace("lr=2.0", f"lr={lr}"), "train_xor")
    with pytest.raises(CheckFailed) as info:
        check_train_xor(train)
    assert info.value.bug == "B19", info.value


def test_train_xor_ascent_is_still_b15_after_smaller_steps():
    train = corpus.cell(corpus._XOR.replace(
        "sgd_step(net.params(), net.grads(), lr)",
        "for k, p in net.params().items():\n            p += lr * net.grads()[k]"),
        "train_xor")
    with pytest.raises(CheckFailed) as info:
        check_train_xor(train)
    assert info.value.bug == "B15" and "100 times smaller" in info.value.message
    assert "(lr=0.2 and lr=0.02)" in info.value.message  # the steps it did take


# --------------------------------------------------------------------------- Standardizer

def test_reference_standardizer_maps_a_rounded_constant_column_to_zero_like_sklearn():
    rng = np.random.default_rng(0)
    X = rng.normal(3.0, 2.0, size=(30, 3))
    X[:, 1] = 0.1
    assert X[:, 1].std() > 0  # the trap: rounding makes it nonzero
    ours = Standardizer().fit_transform(X)
    theirs = StandardScaler().fit_transform(X)
    np.testing.assert_allclose(ours, theirs, atol=1e-12)
    assert np.abs(ours[:, 1]).max() < 1e-12


def test_missing_return_self_costs_one_part_and_does_not_hide_b2():
    no_return = corpus._STD.replace("        return self\n", "")
    cls = corpus.cell(no_return, "Standardizer")
    for part in ("new_data", "round_trip", "edge_cases"):
        check_standardizer(cls, part=part)
    with pytest.raises(CheckFailed, match="return self"):
        check_standardizer(cls, part="fit")
    refits = corpus.cell(no_return.replace("return (X - self.mu) / self.sigma",
                                           "return (X - X.mean(axis=0)) / X.std(axis=0)"),
                         "Standardizer")
    with pytest.raises(CheckFailed) as info:
        check_standardizer(refits)
    assert info.value.bug == "B2"


# --------------------------------------------------------------------------- notebook 06

def test_clipped_log_loss_is_b17_at_a_huge_logit_gap_and_scipy_passes():
    right = corpus.cell("""
def softmax_cross_entropy(Z, y):
    n = len(y)
    logp = special.log_softmax(Z, axis=1)
    P = special.softmax(Z, axis=1)
    P[np.arange(n), y] -= 1
    return float(-logp[np.arange(n), y].mean()), P / n
""", "softmax_cross_entropy", special=special)
    check_softmax_cross_entropy(right)
    clipped = [s.obj for s in load() if "log(clip(P, 1e-12))" in s.style][0]
    with pytest.raises(CheckFailed) as info:
        check_softmax_cross_entropy(clipped)
    assert info.value.bug == "B17" and "27.6" in info.value.message


# --------------------------------------------------------------------------- gradcheck report

X = np.random.default_rng(3).normal(size=(5, 4))
Y = np.array([0, 1, 2, 1, 0])


def test_report_does_not_flag_rounding_just_above_the_threshold():
    net = Sequential(Dense(4, 6, 1), Tanh(), Dense(6, 3, 2))
    strict = network_gradient_report(net, softmax_cross_entropy, X, Y, threshold=1e-13)
    above = [e for e in strict if e.error >= 1e-13]
    assert above, "the probe must put some error above the tiny threshold"
    assert strict.passed
    assert all("not a bug" in e.diagnosis for e in above)


def test_report_on_a_summed_loss_says_the_loss_sums():
    def summed(Z, y):
        loss, dZ = softmax_cross_entropy(Z, y)
        return loss * len(y), dZ   # the loss sums, the gradient averages

    report = network_gradient_report(Sequential(Dense(4, 6, 1), Tanh(), Dense(6, 3, 2)),
                                     summed, X, Y)
    assert not report.passed
    assert all("loss SUMS over the batch" in e.diagnosis and "B5" in e.diagnosis
               for e in report)


def test_train_xor_on_its_own_climbing_sgd_step_blames_that_helper(capsys):
    train = corpus.cell(corpus._XOR + """
def sgd_step(params, grads, lr):
    for k in params:
        params[k] += lr * grads[k]
""", "train_xor")
    mine = train.__globals__["sgd_step"]
    check_train_xor(train)
    assert "`sgd_step` has bug B15" in capsys.readouterr().out
    assert train.__globals__["sgd_step"] is mine


def test_every_loop_check_note_is_absent_for_a_right_notebook(capsys):
    check_train_neuron(corpus.cell(corpus._NEURON + corpus._TRAIN, "train_neuron"))
    check_gradient_check(corpus.cell(corpus._GC + corpus._GRADCHECK, "gradient_check"))
    assert capsys.readouterr().out == "" and _core.NOTES == []


class Remote:
    """A stand-in for the grader's proxy: no __globals__, only the access layer's hooks.
    It records what the check hands into the 'kernel'."""

    __nnlab_remote__ = True

    def __init__(self, fn, handed=None):
        self._fn = fn
        self.handed = [] if handed is None else handed

    def __call__(self, *args, **kwargs):
        return self._fn(*args, **kwargs)

    def _nnlab_call(self, args, kwargs, *, seconds=None, forbid=()):
        # how _core.call reaches a remote object (the oracle's proxies implement it)
        return self._fn(*args, **kwargs)

    def _nnlab_global(self, name):
        value = self._fn.__globals__.get(name)
        return Remote(value, self.handed) if callable(value) else value

    def _nnlab_swap_globals(self, mapping):
        import contextlib

        from nnlab.checks._student import KernelFunction

        @contextlib.contextmanager
        def swap():
            space = self._fn.__globals__
            saved = {k: space[k] for k in mapping}
            self.handed.extend(mapping.values())
            assert all(isinstance(v, KernelFunction) for v in mapping.values())
            space.update({k: v.local() for k, v in mapping.items()})
            try:
                yield
            finally:
                space.update(saved)

        return swap()

    def _nnlab_defaults(self):
        from nnlab.checks._student import signature_defaults

        return signature_defaults(self._fn)


def test_localisation_goes_through_the_access_layer_only(capsys):
    right_loop = Remote(corpus.cell(corpus._NEURON + corpus._GRADS_PER_SAMPLE_DB
                                    + corpus._TRAIN, "train_neuron"))
    check_train_neuron(right_loop)
    assert "`neuron_gradients` has bug B1" in capsys.readouterr().out
    assert {k.name for k in right_loop.handed} >= {"neuron_gradients", "bce_loss"}
    wrong_loop = Remote(corpus.cell(corpus._NEURON + corpus._GRADS_PER_SAMPLE_DB
                                    + corpus._TRAIN.replace("w = w - lr * dw",
                                                            "w = w - lr * w"),
                                    "train_neuron"))
    with pytest.raises(CheckFailed) as info:
        check_train_neuron(wrong_loop)
    assert info.value.bug == "B12"


# --------------------------------------------------------------------------- the words
# Diagnoses that name no bug id: selftest and test_zoo see only `bug is None`, so the words
# a student needs to find the line are asserted here, one test per message (key words, not
# the whole text). Then the new diagnoses of the arguments and of large inputs.

def diagnosis(check: str, style: str, *, hidden: bool = False) -> CheckFailed:
    """What `check` says about the one zoo specimen whose style contains `style`."""
    found = [s for s in load() if s.check == check and style in s.style]
    assert len(found) == 1, [s.style for s in found]
    with pytest.raises(CheckFailed) as info:
        REGISTRY[check](found[0].obj, hidden=hidden, **found[0].kwargs)
    return info.value


@pytest.mark.parametrize("check, name", [("check_sigmoid_layer", "sigmoid"),
                                         ("check_tanh", "tanh"), ("check_relu", "relu")])
def test_backward_without_dy_teaches_the_chain_rule(check, name):
    exc = diagnosis(check, "backward forgets dY")
    assert exc.bug is None
    msg = exc.message
    assert "the local slope is right, but dY is never used" in msg
    assert "chain rule" in msg and "dLoss/dX = dLoss/dOutput * dOutput/dX" in msg
    assert f"dX = dY * {name}'(X)" in msg


def test_relative_error_over_a_plus_b_points_at_the_denominator():
    exc = diagnosis("check_relative_error", "denominator |a + b|")
    assert exc.bug is None
    msg = exc.message
    assert "opposite sign" in msg and "above 1" in msg
    assert "your denominator is |a + b|" in msg and "np.abs(a) + np.abs(b)" in msg


def test_an_empty_last_batch_is_shown_in_the_sizes_with_the_loop_to_write():
    exc = diagnosis("check_iterate_minibatches", "an empty last batch")
    assert exc.bug is None
    msg = exc.message
    assert ", 0]" in msg and "an empty batch at the end" in msg
    assert "multiple of batch_size" in msg
    assert "for start in range(0, n, batch_size)" in msg


def test_float32_logits_giving_a_float64_dz_name_the_one_hot():
    exc = diagnosis("check_softmax_cross_entropy", "dZ float64 from float32 Z")
    assert exc.bug is None
    msg = exc.message
    assert "returned dZ of dtype float64" in msg
    assert "float32 logits must give a float32 dZ" in msg
    assert "np.zeros((n, k))" in msg and "np.zeros_like(Z)" in msg


@pytest.mark.parametrize("hidden", [False, True], ids=["visible", "hidden"])
@pytest.mark.parametrize("check, style", [
    ("check_sigmoid", "float32 throughout: casts every input to float32"),
    ("check_sigmoid_derivative", "float32 throughout: casts z to float32"),  # issue 10's case
])
def test_a_float32_cast_is_named_float32_not_a_loop(check, style, hidden):
    exc = diagnosis(check, style, hidden=hidden)
    assert exc.bug is None
    msg = exc.message
    assert "returned float32 for a float64 z" in msg and "converts to float32" in msg
    assert "numpy keeps float64 as float64" in msg
    assert "z[i]" not in msg and "loop" not in msg


@pytest.mark.parametrize("hidden", [False, True], ids=["visible", "hidden"])
def test_a_derivative_computed_in_float32_and_returned_as_float64_is_named_float32(hidden):
    exc = diagnosis("check_sigmoid_derivative", "computes in float32, hands back float64",
                    hidden=hidden)
    assert exc.bug is None
    msg = exc.message
    assert "right to about 7 digits" in msg and "computes in float32 somewhere" in msg
    assert "z[i]" not in msg and "1-D z worked" not in msg


def test_sgd_step_raising_keyerror_is_told_the_promised_valueerror():
    exc = diagnosis("check_sgd_step", "a missing key raises KeyError")
    assert exc.bug is None
    msg = exc.message
    assert "without the key" in msg and "raised KeyError, not ValueError" in msg
    assert "names the key" in msg and "raise ValueError(" in msg


def test_sgd_step_raising_nothing_is_told_the_promised_valueerror():
    exc = diagnosis("check_sgd_step", "no ValueError is raised")
    assert exc.bug is None
    msg = exc.message
    assert "without the key" in msg and "returned without an error" in msg
    assert "ValueError that names the key" in msg
    assert "if name not in grads or grads[name].shape != p.shape" in msg


def test_overflowing_neuron_forward_is_b17_with_the_promise_of_notebook_01():
    exc = diagnosis("check_neuron_forward", "inf / inf = nan at z = 1000")
    assert exc.bug == "B17"
    msg = exc.message
    assert "large inputs" in msg and "nan" in msg and "inf / inf" in msg
    assert "y_hat in (0, 1) for any input" in msg and "imported `sigmoid`" in msg


def test_train_neuron_ignoring_epochs_names_the_argument_not_b12():
    exc = diagnosis("check_train_neuron", "a hard-coded range(1000)")
    assert exc.bug is None
    msg = exc.message
    assert "epochs=1, 2, 3 and 4" in msg and "1000 losses every time" in msg
    assert "ignores the `epochs` argument" in msg and "for epoch in range(epochs)" in msg


@pytest.mark.parametrize("style, who, line", [
    ("lr ignored: w = w - dw", "w and b", "`w -= lr * dw` and `b -= lr * db`"),
    ("fixed inside, for the bias only", "b", "`b -= lr * db`"),
])
def test_train_neuron_ignoring_lr_names_the_argument_and_the_line(style, who, line):
    exc = diagnosis("check_train_neuron", style)
    assert exc.bug is None
    msg = exc.message
    assert "with lr=0.5 and with lr=1.5" in msg
    assert f"the update of {who} ignores the `lr` argument" in msg and line in msg


@pytest.mark.parametrize("style", ["p += g, no lr (numpy", "params[k] += grads[k]"])
def test_train_xor_gradient_added_without_lr_is_b13(style):
    exc = diagnosis("check_train_xor", style)
    assert exc.bug == "B13"
    msg = exc.message
    assert "lr=0.5, epochs=3" in msg and "the same run with lr=1.5" in msg
    assert "does not use lr, and it climbs" in msg and "`p += grad`" in msg
    assert "p -= lr * grad" in msg


@pytest.mark.parametrize("style, words", [
    ("lr ignored: p -= g", "the update ignores the `lr` argument"),
    ("a learning rate fixed inside", "the update ignores the `lr` argument"),
    ("a hard-coded range(500)", "the loop ignores the `epochs` argument"),
    ("a loss recorded every 10 epochs", "one per epoch, `epochs` of them"),
])
def test_train_xor_names_the_argument_it_ignores(style, words):
    exc = diagnosis("check_train_xor", style)
    assert exc.bug is None and words in exc.message


def test_train_xor_ascent_without_a_readable_default_says_which_steps_it_tried():
    train = corpus.cell(corpus._XOR.replace("lr=2.0", "lr=None").replace(
        "sgd_step(net.params(), net.grads(), lr)",
        "for k, p in net.params().items():\n            p += (lr or 2.0) * net.grads()[k]"),
        "train_xor")
    with pytest.raises(CheckFailed) as info:
        check_train_xor(train)
    assert info.value.bug == "B15"
    assert "rises with smaller steps too (lr=0.2 and lr=0.02)" in info.value.message
