"""Hints for the Python a PyTorch beginner trips over: classes, ``self``, ``super()``, methods
used without ``()``, and data sets and loaders used as if they were one sample.

Each rule follows ``error_hints``: it names a cause only when the message, the failing line,
the operands or the learner's source show it, and the fix it gives is the one that makes the
code run. These errors come from Python itself (or from torch about a Python mistake), so the
message alone rarely names the cause: most rules find it in the source.
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Iterator

from tutor.core.error_hints import Case, Rule, _near_init
from tutor.core.values import ErrorInfo

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef

# Methods a beginner uses without ``()``: of a tensor, a module, a dict.
METHODS = frozenset((
    "parameters", "named_parameters", "children", "named_children", "modules",
    "named_modules", "state_dict", "buffers", "numel", "nelement", "item", "size", "dim",
    "sum", "mean", "max", "min", "std", "argmax", "tolist", "numpy", "float", "long", "detach",
    "cpu", "clone", "flatten", "squeeze", "unsqueeze", "keys", "values", "items",
))
# Those of them that give their items one at a time (a generator, which has no len).
GENERATORS = frozenset(("parameters", "named_parameters", "children", "named_children",
                        "modules", "named_modules", "buffers"))
# A layer class and the function that applies the same operation to a tensor at once.
FUNCTIONAL = {
    "ReLU": "F.relu", "LeakyReLU": "F.leaky_relu", "GELU": "F.gelu", "ELU": "F.elu",
    "Sigmoid": "torch.sigmoid", "Tanh": "torch.tanh", "Softmax": "F.softmax",
    "LogSoftmax": "F.log_softmax", "MaxPool1d": "F.max_pool1d", "MaxPool2d": "F.max_pool2d",
    "AvgPool2d": "F.avg_pool2d", "Flatten": "torch.flatten",
}
DATASETS = frozenset((
    "FashionMNIST", "MNIST", "KMNIST", "EMNIST", "QMNIST", "CIFAR10", "CIFAR100", "SVHN",
    "STL10", "ImageFolder", "DatasetFolder", "FakeData", "TensorDataset", "Subset",
    "ConcatDataset",
))
SELF_LIKE = ("self", "cls")
SUPER_CALLED = re.compile(r"descriptor '(\w+)' (?:of 'super' object needs an argument"
                          r"|requires a 'super' object)")
ARITY = re.compile(r"([\w.]+)\(\) (?:takes (?:from \d+ to )?(\d+) positional arguments? but "
                   r"(\d+) (?:was|were) given|got multiple values for argument '(\w+)')")
MODULE_STATE = re.compile(r"cannot assign \w+ before Module\.__init__\(\) call|'(\w+)' object "
                          r"has no attribute '_(?:modules|parameters|buffers|\w*hooks\w*)'")
NO_ATTRIBUTE = re.compile(r"'(\w+)' object has no attribute '(\w+)'")
TRANSFORM_ARITY = re.compile(r"(\w+)\.__init__\(\) takes 1 positional argument but \d+ were "
                             r"given")


def hint(error: ErrorInfo, source: str = "") -> str | None:
    """The first rule's sentence about ``error``, or None (as ``error_hints.hint``)."""
    case = Case(error, source)
    return next((said for rule in RULES if (said := rule(case))), None)


# --------------------------------------------------------------------------- classes


def method_without_self(case: Case) -> str | None:
    """``def forward(x):`` in a class: Python passes the object as one argument more.
    ``error_hints.method_without_self`` reads a call written ``obj.method(x)``; this rule
    reads the calls Python makes (``model(x)`` runs ``forward``, ``Lizard(...)`` runs
    ``__init__``), calls made outside the learner's code, and the messages it does not
    ("takes 0 ... but 1 was given", "got multiple values for argument")."""
    found = ARITY.match(case.message)
    if case.error.type != "TypeError" or found is None or "." not in found.group(1):
        return None
    owner, name = found.group(1).rsplit(".", 1)
    call = case.call
    if call is not None and isinstance(call.func, ast.Attribute) and call.func.attr == name \
            and case.message.endswith("were given"):
        return None  # error_hints.method_without_self words it
    method = _method(case, owner.rsplit(".", 1)[-1], name)
    if method is None or _decorated(method) or method.args.vararg is not None:
        return None
    params = _params(method)
    if params and params[0].arg in SELF_LIKE:
        return None
    taken, given, twice = found.group(2), found.group(3), found.group(4)
    if twice is None and not (int(taken) == len(params) and int(given) == len(params) + 1):
        return None  # another count: adding `self` would not make the call fit
    if twice is not None and (not params or twice != params[0].arg):
        return None
    written = ast.unparse(method.args)
    fixed = f"self, {written}" if written else "self"
    return (f"`def {name}({written}):` on line {method.lineno} has no `self` first, and Python "
            f"passes the object itself as a method's first argument. Did you forget `self`? "
            f"`def {name}({fixed}):`")


def attribute_in_a_local(case: Case) -> str | None:
    """``name = name`` in ``__init__`` (not ``self.name = name``), then ``lizard.name``."""
    found = NO_ATTRIBUTE.match(case.message)
    if case.error.type != "AttributeError" or found is None:
        return None
    cls = _class(case, found.group(1))
    attribute = found.group(2)
    if cls is None:
        return None
    # Stored by `__init__`, the attribute exists on every object; stored only by another
    # method (`set_name`), an object that never had it called lacks it.
    init = next((m for m in _methods(cls) if m.name == "__init__"), None)
    if _stores_attribute(init if init is not None else cls, attribute):
        return None
    for method in sorted(_methods(cls), key=lambda m: m.name != "__init__"):
        params = _params(method)
        assigned = _assigns_local(method, attribute)
        if assigned is None or not params:
            continue
        line, value = assigned
        return (f"Line {line} in `{method.name}` sets `{attribute}` as a local variable, which "
                f"is gone when `{method.name}` returns; store it on the object: "
                f"`{params[0].arg}.{attribute} = {case.segment(value)}`.")
    return None


def attribute_without_self(case: Case) -> str | None:
    """``return "I am " + name`` in a method, where ``__init__`` stored ``self.name``."""
    found = re.match(r"name '(\w+)' is not defined", case.message)
    if case.error.type != "NameError" or found is None or not case.error.frames:
        return None
    name, frame = found.group(1), case.error.frames[-1]
    for cls in _class_nodes(case):
        method = next((m for m in _methods(cls) if m.name == frame.name
                       and m.lineno <= (frame.line or 0) <= (m.end_lineno or 0)), None)
        stored = _stores_attribute(cls, name)
        if method is None or stored is None or not _params(method):
            continue
        owner = _params(method)[0].arg
        return (f"`{name}` is stored on the object (line {stored.lineno}: "
                f"`{case.segment(stored)} = ...`): inside `{method.name}`, read it as "
                f"`{owner}.{name}`.")
    return None


def repr_prints(case: Case) -> str | None:
    """``print(lizard)`` where ``__repr__`` prints its text: with no ``__str__``, ``str``
    runs ``__repr__``, so the message names ``__str__``, a method the class does not have
    (``error_hints.str_returns_nothing`` reads the method the message names)."""
    if not case.message.startswith("__str__ returned non-string (type NoneType)"):
        return None
    for cls in _class_nodes(case):
        methods = {m.name: m for m in _methods(cls)}
        method = methods.get("__repr__")
        if "__str__" in methods or method is None or _returns_value(method):
            continue
        printed = next((n for n in ast.walk(method) if isinstance(n, ast.Call)
                        and isinstance(n.func, ast.Name) and n.func.id == "print"), None)
        if printed is None:
            return (f"`__repr__` on line {method.lineno} returns nothing (None), and `print` "
                    f"runs it for want of a `__str__`: it must return the text, for example "
                    f"`return f\"...\"`.")
        text = (case.segment(printed.args[0])
                if len(printed.args) == 1 and not printed.keywords else 'f"..."')
        return (f"`__repr__` on line {method.lineno} prints its text, and so returns None. "
                f"`__repr__` must return the text instead of printing it: `return {text}`.")
    return None


def call_misnamed(case: Case) -> str | None:
    """``def call(self, x)`` (or ``__call``) where ``obj(x)`` needs ``__call__``."""
    found = re.match(r"'(\w+)' object is not callable$", case.message)
    cls = _class(case, found.group(1)) if found else None
    if cls is None or any(m.name == "__call__" for m in _methods(cls)):
        return None
    near = next((m for m in _methods(cls) if _near_call(m.name)), None)
    if near is None:
        return None
    return (f"`{cls.name}` has no `__call__`: the method on line {near.lineno} is named "
            f"`{near.name}`, so a `{cls.name}` object cannot be called like a function. Name the "
            "method `__call__` (two underscores on each side).")


def _near_call(name: str) -> bool:
    return name != "__call__" and "cal" in name.lower() and (
        name.strip("_").lower() == "call"
        or difflib.SequenceMatcher(None, name, "__call__").ratio() >= 0.8)


def misspelt_forward(case: Case) -> str | None:
    """``def foward(self, x)``, or ``forward`` indented outside its class."""
    found = re.match(r'Module \[(\w+)\] is missing the required "forward" function',
                     case.message)
    cls = _class(case, found.group(1)) if found else None
    if cls is None or any(m.name == "forward" for m in _methods(cls)):
        return None
    near = next((m for m in _methods(cls) if m.name.lower() == "forward"
                 or difflib.SequenceMatcher(None, m.name, "forward").ratio() >= 0.75), None)
    if near is not None:
        return (f"`{cls.name}` has no `forward`: the method on line {near.lineno} is named "
                f"`{near.name}`. Name it `forward`, the method that `model(x)` runs.")
    top = case.tree.body if case.tree is not None else []
    outside = next((n for n in top if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                    and n.name == "forward"), None)
    if outside is not None:
        return (f"`def forward` on line {outside.lineno} is not inside `class {cls.name}`: "
                "indent it (and its body) by 4 more spaces, like the class's other methods.")
    return (f"`{cls.name}` defines no `forward`: add `def forward(self, x):` to the class, "
            "returning the output, so that `model(x)` can run it.")


# --------------------------------------------------------------------------- super()


def super_without_parens(case: Case) -> str | None:
    """``super.__init__()``: the built-in ``super`` itself, not the parent of this object."""
    found = SUPER_CALLED.match(case.message)
    if found is None:
        return None
    for call in _calls(case, on_failing_line=True):
        func = call.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) \
                and func.value.id == "super":
            args = [a for a in call.args if not (isinstance(a, ast.Name) and a.id == "self")]
            fixed = f"super().{func.attr}({_arguments(case, args, call.keywords)})"
            return (f"Line {call.lineno} writes `{case.segment(call)}`: call `super()` with "
                    f"parentheses: `{fixed}`.")
    return None


def super_init_given_self(case: Case) -> str | None:
    """``super().__init__(self, name)``: ``self`` goes twice."""
    if case.error.type != "TypeError" or "__init__()" not in case.message:
        return None
    counts = re.search(r"takes (?:from \d+ to )?(\d+) positional arguments? but (\d+)",
                       case.message)
    if counts and int(counts.group(2)) - 1 > int(counts.group(1)):
        return None  # still too many without `self`: another mistake
    for call in _calls(case, on_failing_line=True):
        if not (_is_super_init(call) and _is_super(_callee(call))) or not call.args:
            continue
        first, function = call.args[0], _enclosing(case, call)
        params = _params(function) if function else []
        if isinstance(first, ast.Name) and params and first.id == params[0].arg:
            fixed = f"super().__init__({_arguments(case, call.args[1:], call.keywords)})"
            return (f"`super().__init__` passes `{first.id}` for you: write `{fixed}` on line "
                    f"{call.lineno}.")
    return None


def super_init_misspelt(case: Case) -> str | None:
    """``super().__int__()`` in an ``__init__`` spelled right."""
    found = re.match(r"'super' object has no attribute '(\w+)'", case.message)
    if found is None or not _near_init(found.group(1)):
        return None
    for call in _calls(case, on_failing_line=True):
        if isinstance(call.func, ast.Attribute) and call.func.attr == found.group(1):
            fixed = case.segment(call).replace(f".{found.group(1)}(", ".__init__(", 1)
            return (f"Is `__init__` spelled right? Line {call.lineno} calls "
                    f"`{case.segment(call)}`: write `{fixed}`.")
    return None


def module_init_not_called(case: Case) -> str | None:
    """An ``nn.Module``'s ``__init__`` that stores layers before (or without) running
    ``nn.Module.__init__``, which makes the dictionaries they are kept in."""
    found = MODULE_STATE.match(case.message)
    if case.error.type != "AttributeError" or found is None:
        return None
    for cls in _class_nodes(case):
        init = next((m for m in _methods(cls) if m.name == "__init__"), None)
        if init is None or (found.group(1) or cls.name) != cls.name:
            continue
        if found.group(1) is None and not _contains_line(init, case.error.line):
            continue
        return _init_order(case, cls, init)
    return None


def _init_order(case: Case, cls: ast.ClassDef, init: FunctionNode) -> str | None:
    stored = _first_stored(init)
    uncalled = next((n for n in ast.walk(init) if isinstance(n, ast.Expr)
                     and isinstance(n.value, ast.Attribute) and n.value.attr == "__init__"
                     and _is_super(n.value.value)), None)
    if uncalled is not None:
        return (f"Line {uncalled.lineno} writes `{case.segment(uncalled)}` without `()`, so "
                "it never runs: write `super().__init__()`.")
    called = next((n for n in ast.walk(init) if isinstance(n, ast.Call) and _is_super_init(n)),
                  None)
    if called is None:
        return (f"`{cls.name}.__init__` (line {init.lineno}) never calls "
                "`super().__init__()`, which sets up the nn.Module part of the object (where it "
                "keeps its layers): add `super().__init__()` as the first line of `__init__`.")
    if stored is not None and stored.lineno < called.lineno:
        return (f"Line {stored.lineno} stores `{case.segment(stored)}` before line "
                f"{called.lineno} calls `super().__init__()`: move `super().__init__()` to the "
                "first line of `__init__`.")
    return None


# --------------------------------------------------------------------------- calls


def method_not_called(case: Case) -> str | None:
    """``model.parameters`` or ``p.numel`` without ``()``: the method, not what it gives."""
    if case.error.type != "TypeError" or case.message == "'method' object is not iterable" \
            or not re.search(r"\b(?:builtin_function_or_method|method)\b", case.message):
        return None  # a method looped over is error_hints.method_not_called's
    known = METHODS | {m.name for c in _class_nodes(case) for m in _methods(c)}
    called = {id(c.func) for c in case.nodes() if isinstance(c, ast.Call)}
    modules = _imported(case)  # `torch.float` is a dtype, not a method left uncalled
    for node in case.on_failing_line():
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load) \
                and node.attr in known and id(node) not in called \
                and case.segment(node).split(".")[0] not in modules:
            text = case.segment(node)
            if node.attr in GENERATORS and "has no len()" in case.message:
                return (f"`{text}` is the method itself, not its result: call it, and count "
                        f"what it gives in a list, `len(list({text}()))`.")
            return (f"`{text}` is the method itself, not its result: call it, `{text}()`.")
    return None


def generator_len(case: Case) -> str | None:
    """``len(model.parameters())`` or ``model.parameters()[0]``: items come one at a time."""
    if case.error.type != "TypeError":
        return None
    if "object of type 'generator' has no len()" in case.message:
        for call in _calls(case, on_failing_line=True):
            if isinstance(call.func, ast.Name) and call.func.id == "len" and len(call.args) == 1:
                made = case.segment(call.args[0])
                extra = (f" (to count the weights in them, `sum(p.numel() for p in {made})`)"
                         if made.endswith(".parameters()") else "")
                return (f"`{made}` gives its items one at a time (a generator), which has no "
                        f"length: count them with `len(list({made}))`{extra}.")
    if "'generator' object is not subscriptable" in case.message:
        for node in case.on_failing_line():
            if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Call):
                made = case.segment(node.value)
                return (f"`{made}` gives its items one at a time (a generator), which cannot "
                        f"be indexed: make a list first, `list({made})[{case.segment(node.slice)}]`.")
    return None


def int_of_bytes(case: Case) -> str | None:
    """``int(data[4:8])`` on bytes read from a file: ``int`` reads digits written as text."""
    if not re.match(r"invalid literal for int\(\) with base \d+: b['\"]", case.message):
        return None
    call = next((c for c in _calls(case, on_failing_line=True) if isinstance(c.func, ast.Name)
                 and c.func.id == "int" and len(c.args) == 1), None)
    idx = re.search(r"idx|ubyte", case.source, re.IGNORECASE)
    order = (" (IDX files store the most significant byte first)" if idx else
             " (\"big\" when the most significant byte comes first, as in IDX files)")
    if call is None:
        return (f"`int(...)` reads a number written as text, and it was given raw bytes: turn "
                f"bytes into a number with `int.from_bytes(the_bytes, \"big\")`{order}.")
    data = case.segment(call.args[0])
    return (f"`int(...)` reads a number written as text, and `{data}` holds raw bytes: turn "
            f"them into a number with `int.from_bytes({data}, \"big\")`{order}.")


def layer_called_on_tensor(case: Case) -> str | None:
    """``t = nn.ReLU(t)`` in ``forward``: makes a layer (``t`` as its setting), applies none."""
    for call in _calls(case):
        func = call.func
        if not (isinstance(func, ast.Attribute) and func.attr in FUNCTIONAL
                and case.segment(func.value) in ("nn", "torch.nn") and call.args) \
                or isinstance(call.args[0], (ast.Constant, ast.Tuple, ast.List)):
            continue
        function = _enclosing(case, call)
        if _given_a_tensor(case, call, function):
            return _use_function(case, call, func.attr, function)
    return None


def _given_a_tensor(case: Case, call: ast.Call, function: FunctionNode | None) -> bool:
    """Whether the layer's first argument was a tensor: the worker saw one, or the error is
    about this layer and the call sits where tensors flow (not in ``__init__``)."""
    first = case.segment(call.args[0])
    layer = _last_name(call.func)
    if call.lineno == case.error.line and any(o.text == first and o.type == "Tensor"
                                              and not o.within for o in case.error.operands):
        return True
    if function is None or function.name == "__init__":
        return False
    if call.lineno == case.error.line and "__init__()" in case.message:
        return True  # the layer's constructor refused the extra argument
    return re.search(rf"\b{layer}\b", case.message) is not None


def _use_function(case: Case, call: ast.Call, layer: str,
                  function: FunctionNode | None) -> str:
    applied = FUNCTIONAL[layer]
    arguments = _arguments(case, call.args, call.keywords)
    if layer == "Flatten" and len(call.args) == 1 and not call.keywords:
        arguments += ", 1"  # nn.Flatten keeps the batch axis; torch.flatten's default does not
    fixed = f"{applied}({arguments})"
    said = (f"Line {call.lineno} writes `{case.segment(call)}`, but `nn.{layer}` makes a layer; "
            f"to apply {applied.split('.')[-1]} to a tensor use `{fixed}`")
    if function is not None and _in_class(case, function):
        said += " (or make the layer in `__init__` and call it here)"
    if applied.startswith("F.") and not _imports_functional(case):
        said += ", with `import torch.nn.functional as F` at the top"
    return said + "."


def transform_given_data(case: Case) -> str | None:
    """``transforms.ToTensor(image)``: the image goes to the transform made with ``()``."""
    found = TRANSFORM_ARITY.match(case.message)
    if found is None:
        return None
    for call in _calls(case, on_failing_line=True):
        if _last_name(call.func) == found.group(1) and call.args \
                and not isinstance(call.args[0], ast.Constant):
            made = case.segment(call.func)
            given = _arguments(case, call.args, call.keywords)
            return (f"`{made}(...)` makes a transform and takes no image: make it first, then "
                    f"call it on the image: `{made}()({given})`.")
    return None


# --------------------------------------------------------------------------- data


def dataset_not_found(case: Case) -> str | None:
    """A data set loaded from a folder of the learner's own (``root="./data"``)."""
    if not case.message.startswith("Dataset not found"):
        return None
    call = _dataset_call(case)
    if call is None:
        return ("Is `root` the folder the tutor provides? The data sets are there: load them "
                "with `root=DATA_DIR, download=False`.")
    root = _root(call)
    if isinstance(root, ast.Name) and root.id == "DATA_DIR":
        return None  # the right folder: something else is missing
    where = f"`{case.segment(root)}`" if root is not None else "the current folder"
    return (f"Line {call.lineno} looks for the data set in {where}, where there is no copy (and "
            "no network to download one): use the folder the tutor provides: `root=DATA_DIR, "
            "download=False`.")


def image_without_transform(case: Case) -> str | None:
    """A torchvision data set without ``transform``: its samples are PIL images."""
    if not (re.match(r"'\w*Image\w*' object has no attribute", case.message)
            or "found <class 'PIL." in case.message):
        return None
    call = _dataset_call(case)
    if call is None or _last_name(call.func) not in DATASETS - {"TensorDataset", "Subset",
                                                                "ConcatDataset"}:
        return None
    given = next((k.value for k in call.keywords if k.arg == "transform"), None)
    if given is not None and not (isinstance(given, ast.Constant) and given.value is None):
        return None
    imported = re.search(r"\btransforms\b", case.source) is not None
    return (f"The data set on line {call.lineno} has no `transform`, so each image comes as a "
            f"PIL image, not a tensor: add `transform=transforms.ToTensor()` to it"
            + ("." if imported else ", with `from torchvision import transforms` at the top."))


def unpacked_whole(case: Case) -> str | None:
    """``image, label = train_set`` or ``images, labels = loader``: the whole collection."""
    found = re.match(r"(?:too many|not enough) values to unpack \(expected (\d+)", case.message)
    if found is None:
        return None
    for node in case.on_failing_line():
        if isinstance(node, (ast.For, ast.AsyncFor)):
            return _without_enumerate(case, node)
        if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Tuple) and isinstance(node.value, ast.Name):
            return _one_of(case, case.segment(node.targets[0]), node.value.id)
    return None


def _without_enumerate(case: Case, loop: ast.For | ast.AsyncFor) -> str | None:
    target = loop.target
    if not (isinstance(target, ast.Tuple) and len(target.elts) == 2
            and isinstance(target.elts[1], ast.Tuple)) or _last_name(
                loop.iter.func if isinstance(loop.iter, ast.Call) else loop.iter) == "enumerate":
        return None
    head = f"for {case.segment(target)} in"
    return (f"`{head} {case.segment(loop.iter)}:` unpacks each item as if it came with a count: "
            f"add the count with `enumerate`: `{head} enumerate({case.segment(loop.iter)}):`.")


def _one_of(case: Case, targets: str, name: str) -> str | None:
    kind = _kind(case, name)
    if kind == "loader":
        return (f"`{name}` is a DataLoader, which gives batches one at a time: take one batch "
                f"first: `{targets} = next(iter({name}))`.")
    if kind == "dataset":
        return (f"`{name}` is the whole data set, not one sample: take one sample first: "
                f"`{targets} = {name}[0]`.")
    if re.search(r"loader|set|data", name, re.IGNORECASE):
        return (f"Is `{name}` a whole data set or a DataLoader? Take one sample first, "
                f"`{targets} = {name}[0]`, or one batch of a loader, "
                f"`{targets} = next(iter({name}))`.")
    return None


def loader_indexed(case: Case) -> str | None:
    """``loader[0]``: a DataLoader gives its batches in turn, by ``iter`` and ``next``."""
    if case.error.type != "TypeError" \
            or not case.message.startswith("'DataLoader' object is not subscriptable"):
        return None
    for node in case.on_failing_line():
        if isinstance(node, ast.Subscript):
            name = case.segment(node.value)
            return (f"A DataLoader gives its batches in turn and cannot be indexed: take the "
                    f"first batch with `next(iter({name}))`.")
    return None


def next_of_a_dataset(case: Case) -> str | None:
    """``next(train_set)``: a data set is indexed, not an iterator (``next(loader)`` is
    ``error_hints.next_without_iter``'s)."""
    found = re.match(r"'(\w+)' object is not an iterator$", case.message)
    if found is None or found.group(1) not in DATASETS | _own_datasets(case):
        return None
    for call in _calls(case, on_failing_line=True):
        if _last_name(call.func) == "next" and len(call.args) == 1:
            name = case.segment(call.args[0])
            return (f"`{name}` is a data set, not an iterator: take its first sample by index, "
                    f"`{name}[0]`, or make an iterator first, `next(iter({name}))`.")
    return None


# --------------------------------------------------------------------------- the source


def _class_nodes(case: Case) -> Iterator[ast.ClassDef]:
    return (n for n in case.nodes() if isinstance(n, ast.ClassDef))


def _class(case: Case, name: str) -> ast.ClassDef | None:
    return next((c for c in _class_nodes(case) if c.name == name), None)


def _methods(cls: ast.ClassDef) -> list[FunctionNode]:
    return [f for f in cls.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))]


def _method(case: Case, owner: str, name: str) -> FunctionNode | None:
    cls = _class(case, owner)
    return next((m for m in _methods(cls) if m.name == name), None) if cls else None


def _params(function: FunctionNode) -> list[ast.arg]:
    return function.args.posonlyargs + function.args.args


def _decorated(function: FunctionNode) -> bool:
    return any(_last_name(d) in ("staticmethod", "classmethod") for d in function.decorator_list)


def _stores_attribute(cls: ast.AST, name: str) -> ast.Attribute | None:
    return next((n for n in ast.walk(cls) if isinstance(n, ast.Attribute) and n.attr == name
                 and isinstance(n.ctx, ast.Store)), None)


def _assigns_local(function: FunctionNode, name: str) -> tuple[int, ast.expr] | None:
    """Where ``function`` binds the bare name ``name`` (its line, and the value bound)."""
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return node.lineno, node.value
        if isinstance(node, ast.AnnAssign) and node.value is not None \
                and isinstance(node.target, ast.Name) and node.target.id == name:
            return node.lineno, node.value
    return None


def _returns_value(function: FunctionNode) -> bool:
    return any(isinstance(n, ast.Return) and n.value is not None
               and not (isinstance(n.value, ast.Constant) and n.value.value is None)
               for n in ast.walk(function))


def _first_stored(function: FunctionNode) -> ast.Attribute | None:
    stored = [n for n in ast.walk(function) if isinstance(n, ast.Attribute)
              and isinstance(n.ctx, ast.Store)]
    return min(stored, key=lambda n: (n.lineno, n.col_offset), default=None)


def _calls(case: Case, on_failing_line: bool = False) -> list[ast.Call]:
    nodes = case.on_failing_line() if on_failing_line else case.nodes()
    return sorted((n for n in nodes if isinstance(n, ast.Call)),
                  key=lambda n: (n.lineno, n.col_offset))


def _enclosing(case: Case, node: ast.AST) -> FunctionNode | None:
    """The innermost function whose body holds ``node``."""
    holders = [f for f in case.nodes() if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
               and any(n is node for n in ast.walk(f))]
    return max(holders, key=lambda f: f.lineno, default=None)


def _in_class(case: Case, function: FunctionNode) -> bool:
    return any(function in c.body for c in _class_nodes(case))


def _contains_line(node: ast.AST, line: int | None) -> bool:
    start, end = getattr(node, "lineno", 0), getattr(node, "end_lineno", 0) or 0
    return line is not None and start <= line <= end


def _is_super(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
        and node.func.id == "super"


def _is_super_init(call: ast.Call) -> bool:
    func = call.func
    return isinstance(func, ast.Attribute) and func.attr == "__init__" and (
        _is_super(func.value) or _last_name(func.value) == "Module")


def _callee(call: ast.Call) -> ast.AST | None:
    """What a method is called on: ``super()`` in ``super().__init__(...)``."""
    return call.func.value if isinstance(call.func, ast.Attribute) else None


def _last_name(node: ast.AST | None) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def _arguments(case: Case, args: list[ast.expr], keywords: list[ast.keyword]) -> str:
    return ", ".join([case.segment(a) for a in args] + [case.segment(k) for k in keywords])


def _imported(case: Case) -> set[str]:
    """The names the source's imports bind (``torch``, ``nn``, ``F``...)."""
    return {(a.asname or a.name).split(".")[0] for n in case.nodes()
            if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}


def _imports_functional(case: Case) -> bool:
    for node in case.nodes():
        if isinstance(node, ast.Import) and any(
                a.name == "torch.nn.functional" and a.asname == "F" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and node.module == "torch.nn" and any(
                a.name == "functional" and a.asname == "F" for a in node.names):
            return True
    return False


def _dataset_call(case: Case) -> ast.Call | None:
    """The data set made on the failing line, else the first one in the source."""
    made = [c for c in _calls(case) if _last_name(c.func) in DATASETS
            or any(k.arg == "root" for k in c.keywords)]
    return next((c for c in made if _contains_line(c, case.error.line)),
                made[0] if made else None)


def _root(call: ast.Call) -> ast.expr | None:
    given = next((k.value for k in call.keywords if k.arg == "root"), None)
    return given if given is not None else (call.args[0] if call.args else None)


def _own_datasets(case: Case) -> set[str]:
    return {c.name for c in _class_nodes(case) if any(_last_name(b) == "Dataset" for b in c.bases)}


def _kind(case: Case, name: str) -> str:
    """"loader" or "dataset" when the source makes ``name`` from one, else ""."""
    own = _own_datasets(case)
    for node in case.nodes():
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and any(
                isinstance(t, ast.Name) and t.id == name for t in node.targets):
            made = _last_name(node.value.func)
            if made == "DataLoader":
                return "loader"
            if made in DATASETS or made in own:
                return "dataset"
    return ""


RULES: list[Rule] = [
    method_without_self, super_without_parens, super_init_given_self, super_init_misspelt,
    module_init_not_called, attribute_in_a_local, attribute_without_self, repr_prints,
    call_misnamed, misspelt_forward, layer_called_on_tensor, transform_given_data,
    method_not_called, generator_len, int_of_bytes, dataset_not_found, image_without_transform,
    unpacked_whole, loader_indexed, next_of_a_dataset,
]
