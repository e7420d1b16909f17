"""The documentation's code runs: user-guide code blocks and docstring examples."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _python_blocks(page: Path) -> list[str]:
    """The ``.. code-block:: python`` bodies of an .rst page, dedented."""
    import textwrap

    blocks, lines = [], page.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if line.strip() == ".. code-block:: python":
            body = []
            for following in lines[i + 2:]:
                if following and not following.startswith(" "):
                    break
                body.append(following)
            blocks.append(textwrap.dedent("\n".join(body)))
    return blocks


@pytest.mark.parametrize("page", ["user_guide/from_pytorch.rst"])
def test_user_guide_code_runs(page):
    blocks = _python_blocks(ROOT / "docs" / page)
    assert blocks
    for block in blocks:
        namespace = {}
        exec(compile(block, page, "exec"), namespace)
    assert namespace["test_accuracy"][-1] > 0.9


def test_docstring_examples_run():
    # The numpydoc "Examples" sections of the public API, as doctests.
    import doctest
    import importlib
    import pkgutil

    import sknn

    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    tested = 0
    for info in pkgutil.iter_modules(sknn.__path__, "sknn."):
        if info.name == "sknn.__main__":
            continue
        module = importlib.import_module(info.name)
        for test in finder.find(module, module=module):
            if test.examples:
                tested += 1
                runner.run(test)
    assert tested >= 3
    assert runner.failures == 0, f"{runner.failures} failing docstring example(s); see output"
