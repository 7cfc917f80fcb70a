"""The local path of nnlab.checks._student: how a check reaches a student's object in the
student's own kernel (the grader's remote path is tested with the oracle)."""

import numpy as np
import pytest

from nnlab.checks._student import (
    KernelFunction,
    is_remote,
    signature_defaults,
    student_global,
    swapped_globals,
)


def test_kernel_function_reads_the_bound_array_itself_not_a_copy():
    x = np.array([1.0, 2.0])
    f = KernelFunction("lambda: float((x ** 2).sum())", x=x)
    assert f() == 5.0
    x[0] = 3.0  # a student's numerical_gradient perturbs x in place; f must see it
    assert f() == 13.0


def test_kernel_function_def_block_with_dict_of_arrays():
    params = {"w": np.array([2.0])}
    f = KernelFunction("def loss():\n    return float(np.sum(params['w'] * 3))\n",
                       name="loss", params=params)
    assert f() == 6.0
    params["w"][0] = 1.0
    assert f() == 3.0


def test_kernel_function_refuses_empty_source():
    with pytest.raises(ValueError, match="lambda expression or def block"):
        KernelFunction("  ")


def helper():
    return "student's"


def uses_helper():
    return helper()


def test_swapped_globals_puts_everything_back_even_on_error():
    ref = KernelFunction("lambda: 'reference'")
    with swapped_globals(uses_helper, helper=ref, brand_new=1):
        assert uses_helper() == "reference"
        assert student_global(uses_helper, "brand_new") == 1
    assert uses_helper() == "student's"
    assert student_global(uses_helper, "brand_new") is None
    with pytest.raises(RuntimeError), swapped_globals(uses_helper, helper=ref):
        raise RuntimeError
    assert uses_helper() == "student's"


def test_student_global_of_a_class_reads_its_methods_namespace():
    class Layer:
        def forward(self):
            return helper()

    assert student_global(Layer, "helper") is helper
    assert student_global(uses_helper, "helper") is helper


def test_signature_defaults_plain_values_only():
    def train(X, y, lr=0.5, epochs=100, seed=0, callback=print):
        pass

    assert signature_defaults(train) == {"lr": 0.5, "epochs": 100, "seed": 0}
    assert signature_defaults(np.add) is None or isinstance(signature_defaults(np.add), dict)
    assert not is_remote(train)
