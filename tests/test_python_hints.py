"""The Python mistakes of PyTorch beginners, explained (``tutor.core.python_hints``).

Each error here is real: the learner's snippet runs with real Python and torch, and its
exception becomes an ``ErrorInfo`` the way the worker makes one (``explain.error``, then the
wire). For each mistake the hint names the cause found in the source, and the code with the
advice applied runs; for a near miss (the same message from another cause, or the cause not
in the source) no rule speaks.
"""

from __future__ import annotations

import itertools
import re
import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tutor.core import error_hints, python_hints
from tutor.core.datasets import raw_dir, write_idx_images, write_idx_labels
from tutor.core.values import ErrorInfo
from tutor.sandbox import explain, wire

Run = Callable[..., "ErrorInfo | None"]


def code(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """Runs a learner's file in this process, then ``check`` (code of the lesson's, from
    another file, as a check calls the learner's functions); the error as the worker reports
    it, or None."""
    monkeypatch.chdir(tmp_path)  # "./data" and the like stay in this test's folder
    names = itertools.count()

    def run_(source: str, check: str = "") -> ErrorInfo | None:
        for module in ("torchvision", "torch"):
            if module in source:
                pytest.importorskip(module)
        path = tmp_path / f"step{next(names)}.py"  # a new name: linecache keeps old text
        path.write_text(source)
        namespace = {"__name__": "__main__", "DATA_DIR": str(tmp_path / "data")}
        try:
            exec(compile(source, str(path), "exec"), namespace)
            exec(compile(check, str(tmp_path / "check.py"), "exec"), namespace)
        except Exception as exc:
            return wire.error_info(explain.error(exc, str(path)))
        return None

    return run_


def said(run: Run, source: str, check: str = "") -> str | None:
    error = run(source, check)
    assert error is not None, "the snippet was meant to raise"
    return python_hints.hint(error, source)


LIZARD = code("""
    class Lizard:
        def __init__(self, name):
            self.name = name

        def set_name(name):
            self.name = name

    lizard = Lizard("deep")
    lizard.set_name(name="gecko")
""")
NET = code("""
    import torch
    from torch import nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 2)

        def forward(x):
            return self.fc(x)

    out = Net()(torch.ones(1, 4))
""")
ANIMAL = code("""
    class Animal:
        def __init__(self, name):
            self.name = name

    class Lizard(Animal):
        def __init__(self, name):
            super().__init__(self, name)

    lizard = Lizard("deep")
""")
MODULE = code("""
    import torch
    from torch import nn

    class Network(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 2)

        def forward(self, t):
            t = self.fc(t)
            return t

    out = Network()(torch.ones(1, 4))
""")
CONV = code("""
    import torch
    import torch.nn.functional as F
    from torch import nn

    class Network(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 2, kernel_size=3)
            self.fc = nn.Linear(2 * 3 * 3, 2)

        def forward(self, t):
            t = self.conv1(t)
            t = nn.MaxPool2d(t, kernel_size=2, stride=2)
            t = self.fc(t.flatten(1))
            return t

    out = Network()(torch.ones(1, 1, 8, 8))
""")
LOADER = code("""
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    train_set = TensorDataset(torch.ones(12, 1, 4, 4), torch.zeros(12, dtype=torch.long))
    loader = DataLoader(train_set, batch_size=4)
""")
FAKE = code("""
    import torch
    import torchvision

    train_set = torchvision.datasets.FakeData(size=4, image_size=(1, 28, 28), num_classes=10)
""")


def module(init: str) -> str:
    """``MODULE`` with another body for ``__init__``."""
    body = "        super().__init__()\n        self.fc = nn.Linear(4, 2)\n"
    assert body in MODULE
    return MODULE.replace(body, textwrap.indent(code(init), " " * 8))


# --------------------------------------------------------------------------- named, then fixed

# name: (the learner's code, what the hint must say, (their mistake, the advice applied))
MISTAKES: dict[str, tuple[str, str, tuple[str, str]]] = {
    "no self in a method, named argument": (
        LIZARD, "Did you forget `self`? `def set_name(self, name):`",
        ("def set_name(name):", "def set_name(self, name):")),
    "no self in forward": (
        NET, "Did you forget `self`? `def forward(self, x):`",
        ("def forward(x):", "def forward(self, x):")),
    "no parameters at all": (
        LIZARD.replace("def set_name(name):\n        self.name = name",
                       "def greet():\n        return 'I am a lizard'")
        .replace('lizard.set_name(name="gecko")', "lizard.greet()"),
        "Did you forget `self`? `def greet(self):`", ("def greet():", "def greet(self):")),
    "no self in __init__": (
        code("""
            class Lizard:
                def __init__(name):
                    self.name = name

            lizard = Lizard("deep")
        """), "`def __init__(self, name):`", ("def __init__(name):", "def __init__(self, name):")),
    "an attribute kept in a local": (
        code("""
            class Lizard:
                def __init__(self, name):
                    name = name

            lizard = Lizard("deep")
            print(lizard.name)
        """), "store it on the object: `self.name = name`",
        ("        name = name", "        self.name = name")),
    "an attribute kept in a local, stored only by another method": (
        code("""
            class Lizard:
                def __init__(self, name):
                    name = name

                def set_name(self, name):
                    self.name = name

            lizard = Lizard("deep")
            print(lizard.name)
        """), "store it on the object: `self.name = name`",
        ("        name = name", "        self.name = name")),
    "a layer kept in a local": (
        module("""
            super().__init__()
            fc = nn.Linear(4, 2)
        """), "store it on the object: `self.fc = nn.Linear(4, 2)`",
        ("    fc = nn.Linear", "    self.fc = nn.Linear")),
    "an attribute read without self": (
        code("""
            class Lizard:
                def __init__(self, name):
                    self.name = name

                def greet(self):
                    return "I am " + name

            print(Lizard("deep").greet())
        """), "inside `greet`, read it as `self.name`", ('+ name', '+ self.name')),
    "__repr__ that prints": (
        code("""
            class Lizard:
                def __init__(self, name):
                    self.name = name

                def __repr__(self):
                    print(f"Lizard {self.name}")

            print(Lizard("deep"))
        """), "`__repr__` must return the text instead of printing it: "
              "`return f\"Lizard {self.name}\"`",
        ('print(f"Lizard {self.name}")', 'return f"Lizard {self.name}"')),
    "__call__ named call": (
        code("""
            class Scale:
                def __init__(self, factor):
                    self.factor = factor

                def call(self, x):
                    return x * self.factor

            double = Scale(2)
            y = double(3)
        """), "Name the method `__call__`", ("def call(", "def __call__(")),
    "forward misspelt": (
        NET.replace("def forward(x):", "def foward(self, x):"),
        "the method on line 9 is named `foward`. Name it `forward`",
        ("def foward(", "def forward(")),
    "forward outside the class": (
        NET.replace("    def forward(x):\n        return", "def forward(self, x):\n    return"),
        "`def forward` on line 9 is not inside `class Net`",
        ("def forward(self, x):\n    return", "    def forward(self, x):\n        return")),
    "super without parentheses": (
        ANIMAL.replace("super().__init__(self, name)", "super.__init__(name)"),
        "call `super()` with parentheses: `super().__init__(name)`",
        ("super.__init__(name)", "super().__init__(name)")),
    "super without parentheses, given self": (
        module("""
            super.__init__(self)
            self.fc = nn.Linear(4, 2)
        """), "call `super()` with parentheses: `super().__init__()`",
        ("super.__init__(self)", "super().__init__()")),
    "super given self": (
        ANIMAL, "`super().__init__` passes `self` for you: write `super().__init__(name)`",
        ("super().__init__(self, name)", "super().__init__(name)")),
    "nn.Module's init given self": (
        module("""
            super().__init__(self)
            self.fc = nn.Linear(4, 2)
        """), "`super().__init__` passes `self` for you: write `super().__init__()`",
        ("super().__init__(self)", "super().__init__()")),
    "super().__int__": (
        module("""
            super().__int__()
            self.fc = nn.Linear(4, 2)
        """), "Is `__init__` spelled right? Line 6 calls `super().__int__()`: write "
              "`super().__init__()`.", ("__int__", "__init__")),
    "nn.Module's init never called": (
        module("""
            self.fc = nn.Linear(4, 2)
        """), "never calls `super().__init__()`",
        ("        self.fc =", "        super().__init__()\n        self.fc =")),
    "nn.Module's init not called, plain attributes": (
        module("self.scale = 2\n").replace("t = self.fc(t)", "t = t * self.scale"),
        "never calls `super().__init__()`",
        ("        self.scale", "        super().__init__()\n        self.scale")),
    "nn.Module's init written without ()": (
        module("""
            super().__init__
            self.fc = nn.Linear(4, 2)
        """), "Line 6 writes `super().__init__` without `()`",
        ("super().__init__\n", "super().__init__()\n")),
    "nn.Module's init called after a layer": (
        module("""
            self.fc = nn.Linear(4, 2)
            super().__init__()
        """), "move `super().__init__()` to the first line of `__init__`",
        ("self.fc = nn.Linear(4, 2)\n        super().__init__()",
         "super().__init__()\n        self.fc = nn.Linear(4, 2)")),
    "state_dict without () indexed": (
        code("""
            from torch import nn

            network = nn.Linear(4, 2)
            weight = network.state_dict["weight"]
        """), "call it, `network.state_dict()`", ("state_dict[", "state_dict()[")),
    "parameters without () counted": (
        code("""
            from torch import nn

            model = nn.Linear(4, 2)
            print(len(model.parameters))
        """), "`len(list(model.parameters()))`",
        ("len(model.parameters)", "len(list(model.parameters()))")),
    "numel without ()": (
        code("""
            from torch import nn

            model = nn.Linear(4, 2)
            total = 0
            for p in model.parameters():
                total += p.numel
        """), "`p.numel` is the method itself, not its result: call it, `p.numel()`.",
        ("p.numel\n", "p.numel()\n")),
    "numel without () in sum": (
        code("""
            from torch import nn

            model = nn.Linear(4, 2)
            total = sum(p.numel for p in model.parameters())
        """), "`p.numel()`", ("p.numel for", "p.numel() for")),
    "len of parameters()": (
        code("""
            from torch import nn

            model = nn.Linear(4, 2)
            print(len(model.parameters()))
        """), "count them with `len(list(model.parameters()))`",
        ("len(model.parameters())", "len(list(model.parameters()))")),
    "parameters() indexed": (
        code("""
            from torch import nn

            model = nn.Linear(4, 2)
            first = model.parameters()[0]
        """), "make a list first, `list(model.parameters())[0]`",
        ("model.parameters()[0]", "list(model.parameters())[0]")),
    "int() of bytes": (
        code("""
            data = bytes([0, 0, 8, 3, 0, 0, 234, 96])
            count = int(data[4:8])
        """), "`int.from_bytes(data[4:8], \"big\")`",
        ("int(data[4:8])", "int.from_bytes(data[4:8], \"big\")")),
    "a whole data set unpacked": (
        LOADER + "image, label = train_set\n",
        "take one sample first: `image, label = train_set[0]`",
        ("= train_set\n", "= train_set[0]\n")),
    "a whole loader unpacked": (
        LOADER + "images, labels = loader\n", "`images, labels = next(iter(loader))`",
        ("= loader\n", "= next(iter(loader))\n")),
    "a loader counted without enumerate": (
        LOADER + "for i, (images, labels) in loader:\n    pass\n",
        "`for i, (images, labels) in enumerate(loader):`",
        ("in loader:", "in enumerate(loader):")),
    "next on a data set": (
        LOADER + "image, label = next(train_set)\n", "`train_set[0]`",
        ("next(train_set)", "train_set[0]")),
    "a loader indexed": (
        LOADER + "images, labels = loader[0]\n", "take the first batch with "
        "`next(iter(loader))`", ("loader[0]", "next(iter(loader))")),
    "nn.ReLU applied to a tensor": (
        MODULE.replace("t = self.fc(t)\n", "t = self.fc(t)\n        t = nn.ReLU(t)\n")
        .replace("return t", "return t.sum()"),
        "`nn.ReLU` makes a layer; to apply relu to a tensor use `F.relu(t)` (or make the layer "
        "in `__init__` and call it here), with `import torch.nn.functional as F` at the top.",
        ("nn.ReLU(t)", "F.relu(t)")),
    "nn.MaxPool2d applied to a tensor": (
        CONV, "to apply max_pool2d to a tensor use `F.max_pool2d(t, kernel_size=2, stride=2)`",
        ("nn.MaxPool2d(", "F.max_pool2d(")),
    "nn.Sigmoid applied to a tensor": (
        MODULE.replace("return t", "return nn.Sigmoid(t)"),
        "use `torch.sigmoid(t)`", ("nn.Sigmoid(t)", "torch.sigmoid(t)")),
    "nn.Softmax applied to a tensor": (
        code("""
            import torch
            from torch import nn
            import torch.nn.functional as F

            scores = torch.ones(2, 3)
            probs = nn.Softmax(scores, dim=1)
            print(probs.sum(dim=1))
        """), "use `F.softmax(scores, dim=1)`.", ("nn.Softmax(", "F.softmax(")),
    "nn.Flatten applied to a tensor": (
        MODULE.replace("t = self.fc(t)", "t = nn.Flatten(t)\n        t = self.fc(t)")
        .replace("torch.ones(1, 4)", "torch.ones(1, 2, 2)"),
        "use `torch.flatten(t, 1)`", ("nn.Flatten(t)", "torch.flatten(t, 1)")),
    "a transform given the image": (
        code("""
            from PIL import Image
            from torchvision import transforms

            image = Image.new("L", (28, 28))
            t = transforms.ToTensor(image)
        """), "`transforms.ToTensor()(image)`",
        ("transforms.ToTensor(image)", "transforms.ToTensor()(image)")),
    "a data set of PIL images": (
        FAKE + "image, label = train_set[0]\nprint(image.shape)\n",
        "has no `transform`, so each image comes as a PIL image, not a tensor: add "
        "`transform=transforms.ToTensor()` to it, with `from torchvision import transforms` "
        "at the top.",
        ("num_classes=10)", "num_classes=10,\n    transform=transforms.ToTensor())")),
    "a loader of PIL images": (
        FAKE + "loader = torch.utils.data.DataLoader(train_set, batch_size=2)\n"
        "images, labels = next(iter(loader))\n",
        "add `transform=transforms.ToTensor()`",
        ("num_classes=10)", "num_classes=10,\n    transform=transforms.ToTensor())")),
}


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_each_mistake_is_named_and_the_advice_makes_the_code_run(run: Run, mistake: str) -> None:
    source, fragment, (wrong, right) = MISTAKES[mistake]
    hint = said(run, source)
    assert hint is not None and fragment in hint, hint
    fixed = source.replace(wrong, right)
    assert fixed != source
    imported = re.search(r"with `(.+?)` at the top", hint)
    if imported:  # part of the advice
        fixed = f"{imported.group(1)}\n{fixed}"
    assert run(fixed) is None


@pytest.mark.parametrize("name", ["call", "__call", "_call_", "__cal__"])
def test_each_near_spelling_of_call_is_named(run: Run, name: str) -> None:
    source = MISTAKES["__call__ named call"][0].replace("def call(", f"def {name}(")
    assert f"the method on line 5 is named `{name}`" in (said(run, source) or "")


def test_the_sentences_in_full(run: Run) -> None:
    called_by_a_check = LIZARD.replace('lizard.set_name(name="gecko")\n', "")
    assert said(run, called_by_a_check, 'Lizard("deep").set_name("gecko")') == (
        "`def set_name(name):` on line 5 has no `self` first, and Python passes the object "
        "itself as a method's first argument. Did you forget `self`? "
        "`def set_name(self, name):`")
    assert said(run, ANIMAL) == (
        "`super().__init__` passes `self` for you: write `super().__init__(name)` on line 7.")
    assert said(run, MISTAKES["an attribute kept in a local"][0]) == (
        "Line 3 in `__init__` sets `name` as a local variable, which is gone when `__init__` "
        "returns; store it on the object: `self.name = name`.")
    assert said(run, MISTAKES["__repr__ that prints"][0]) == (
        "`__repr__` on line 5 prints its text, and so returns None. `__repr__` must return the "
        "text instead of printing it: `return f\"Lizard {self.name}\"`.")
    assert said(run, MISTAKES["len of parameters()"][0]) == (
        "`model.parameters()` gives its items one at a time (a generator), which has no "
        "length: count them with `len(list(model.parameters()))` (to count the weights in "
        "them, `sum(p.numel() for p in model.parameters())`).")
    assert said(run, MISTAKES["a whole loader unpacked"][0]) == (
        "`loader` is a DataLoader, which gives batches one at a time: take one batch first: "
        "`images, labels = next(iter(loader))`.")


def test_a_layer_made_in_forward_is_named_wherever_its_output_fails(run: Run) -> None:
    """``nn.ReLU(t)`` raises nothing itself: what fails is the next use of its "output"."""
    relu = MISTAKES["nn.ReLU applied to a tensor"][0]
    for use in ("return t.sum()", "return self.fc(t)", "return t + 1"):
        source = relu.replace("return t.sum()", use)
        assert "Line 11 writes `nn.ReLU(t)`" in (said(run, source) or ""), use


def test_bytes_from_an_idx_file_are_said_to_be_big_endian(run: Run) -> None:
    source = code("""
        header = bytes([0, 0, 8, 3, 0, 0, 234, 96])  # train-images-idx3-ubyte
        count = int(header[4:8])
    """)
    assert said(run, source) == (
        "`int(...)` reads a number written as text, and `header[4:8]` holds raw bytes: turn "
        "them into a number with `int.from_bytes(header[4:8], \"big\")` (IDX files store the "
        "most significant byte first).")


def test_a_data_set_outside_data_dir_is_pointed_at_data_dir(run: Run, tmp_path: Path) -> None:
    source = code("""
        import torchvision

        train_set = torchvision.datasets.FashionMNIST(
            root="./data/fashion",
            train=True,
            download=False,
        )
    """)
    assert said(run, source) == (
        "Line 3 looks for the data set in `\"./data/fashion\"`, where there is no copy (and no "
        "network to download one): use the folder the tutor provides: `root=DATA_DIR, "
        "download=False`.")
    raw = raw_dir(tmp_path / "data")  # DATA_DIR holds a (tiny) copy, as the tutor's does
    raw.mkdir(parents=True)
    images = np.zeros((2, 28, 28), dtype=np.uint8)
    for prefix in ("train", "t10k"):
        write_idx_images(raw / f"{prefix}-images-idx3-ubyte", images)
        write_idx_labels(raw / f"{prefix}-labels-idx1-ubyte", np.array([0, 1]))
    assert run(source.replace('"./data/fashion"', "DATA_DIR")) is None


@pytest.mark.parametrize(("source", "words"), [
    # `def __int__` raises nothing until a layer is used: misspelt_init reads the
    # AttributeError ("'Network' object has no attribute 'fc'")
    (MODULE.replace("def __init__(self):", "def __int__(self):"), "spelled `__int__`"),
    # a method without self, called as `obj.method(...)` on the failing line
    (LIZARD.replace("set_name(name=", "set_name("), "make `self` its first parameter"),
    (LOADER + "images, labels = next(loader)\n", "`next(iter(loader))`"),
    ("from torch import nn\nfor p in nn.Linear(4, 2).parameters:\n    pass\n",
     "`nn.Linear(4, 2).parameters()`"),
    (MISTAKES["__repr__ that prints"][0].replace("__repr__", "__str__"),
     "prints its text but returns nothing"),
])
def test_what_error_hints_explains_is_not_said_again(run: Run, source: str, words: str) -> None:
    error = run(source)
    assert error is not None
    assert words in (error_hints.hint(error, source) or "")
    assert python_hints.hint(error, source) is None


# --------------------------------------------------------------------------- near misses

NEAR_MISSES: dict[str, str] = {
    # self is there: the call gives one argument too many
    "too many arguments": LIZARD.replace("def set_name(name):", "def set_name(self, name):")
    .replace('set_name(name="gecko")', 'set_name("gecko", "anole")'),
    # an attribute set nowhere, not even as a local
    "an attribute never set": LIZARD.replace('lizard.set_name(name="gecko")',
                                             "print(lizard.age)"),
    # a name that is neither a local nor stored on the object
    "an unknown name in a method": code("""
        class Lizard:
            def __init__(self, name):
                self.name = name

            def greet(self):
                return "I am " + nickname

        Lizard("deep").greet()
    """),
    # __repr__ returns, but something other than text
    "__repr__ returning a number": code("""
        class Lizard:
            def __repr__(self):
                return 7

        print(Lizard())
    """),
    # no method that looks like __call__
    "an object with no call method": code("""
        class Scale:
            def apply(self, x):
                return x * 2

        y = Scale()(3)
    """),
    # torch's own nn.Module, not a class of the learner's
    "a bare nn.Module": "import torch\nfrom torch import nn\nnn.Module()(torch.ones(1))\n",
    # a descriptor error that is not about super
    "object's __init__ unbound": "object.__init__()\n",
    # super().__init__ given a wrong argument, not self
    "super given another argument": ANIMAL.replace("super().__init__(self, name)",
                                                   "super().__init__(name, 3)"),
    # a missing attribute of the learner's own, with nn.Module set up right
    "a private attribute never set": MODULE.replace("t = self.fc(t)", "t = self._cache"),
    # super() spelled right, another attribute missing
    "another attribute of super": module("super().register()\n"),
    # an uncalled built-in, not a method of an object
    "a function used as a number": "total = 0 + print\n",
    # a layer used as a layer: the error is about sizes
    "layers made in __init__": MODULE.replace("nn.Linear(4, 2)", "nn.Linear(3, 2)"),
    # a layer whose first argument is a number in a variable, made in __init__
    "a pooling size in a variable": module("""
        super().__init__()
        k = 2
        self.pool = nn.MaxPool2d(k)
        self.fc = nn.Linear(4, 2)
    """).replace("t = self.fc(t)", "t = self.fc(t) * self.pool.kernel"),
    # text that is not a number, not bytes
    "int of text": 'n = int("seven")\n',
    # the right folder, but no copy in it
    "DATA_DIR without data": "import torchvision\n"
    "train_set = torchvision.datasets.FashionMNIST(root=DATA_DIR, download=False)\n",
    # a PIL image the learner made, no data set in sight
    "a PIL image of one's own": "from PIL import Image\nprint(Image.new('L', (2, 2)).shape)\n",
    # too many values, from a list
    "a list unpacked": "values = [1, 2, 3]\na, b = values\n",
    # next on something that iter() could not help either
    "next of a number": "n = next(5)\n",
    # a generator's len from something else than a method
    "len of a number": "n = len(5)\n",
    # a number indexed, not a loader
    "a number indexed": "n = 5\nfirst = n[0]\n",
    # ToTensor given the image by the data set: passed without (), error_hints' case
    "a transform passed without ()": FAKE.replace(
        "num_classes=10)", "num_classes=10,\n    transform=torchvision.transforms.ToTensor)")
    + "image, label = train_set[0]\n",
}


@pytest.mark.parametrize("near_miss", list(NEAR_MISSES))
def test_no_rule_speaks_for_a_near_miss(run: Run, near_miss: str) -> None:
    source = NEAR_MISSES[near_miss]
    assert said(run, source) is None


def test_without_the_source_only_questions_or_nothing(run: Run) -> None:
    """A rule that finds its cause in the source says nothing confident without it."""
    for mistake, (source, _, _) in MISTAKES.items():
        error = run(source)
        assert error is not None
        hint = python_hints.hint(error)
        assert hint is None or hint.startswith(("Is ", "`int(...)`")), (mistake, hint)


def test_an_unknown_collection_unpacked_gets_a_question(run: Run) -> None:
    source = LOADER + code("""
        def first(train_loader):
            images, labels = train_loader
            return images

        first(loader)
    """)
    assert said(run, source) == (
        "Is `train_loader` a whole data set or a DataLoader? Take one sample first, "
        "`images, labels = train_loader[0]`, or one batch of a loader, "
        "`images, labels = next(iter(train_loader))`.")
