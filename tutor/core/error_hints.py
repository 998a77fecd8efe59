"""One sentence for the errors beginners meet most: the usual cause, and the fix.

Each rule is a small function of a ``Case`` (the error as the worker reported it: type,
message, the learner's frames, the failing expression's operands; and the learner's source,
where the caller has it). It returns None unless its error is the one it knows. Before it
names a cause it looks for that cause in the source or in the operands; when it cannot (no
source, or the cause is not there) it asks a question instead, or says nothing, so a learner
never gets confident advice about a mistake they did not make. The advice, followed, fixes
that error: never ``weights_only=False``, never "use ``.T``" unless ``.T`` makes the shapes fit.
"""

from __future__ import annotations

import ast
import difflib
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property

from tutor.core.values import ErrorInfo, Operand

TRANSFORMS = frozenset((
    "ToTensor", "Normalize", "Resize", "Compose", "CenterCrop", "RandomCrop",
    "RandomResizedCrop", "RandomHorizontalFlip", "RandomVerticalFlip", "RandomRotation",
    "Grayscale", "ToPILImage", "PILToTensor", "ConvertImageDtype", "ColorJitter", "Pad",
    "ToDtype", "ToImage",
))
MISSPELT_INIT = frozenset(("init", "int", "inti", "innit", "initi", "iniit", "intit", "ini"))
NO_GPU = re.compile(r"Found no NVIDIA driver|Torch not compiled with CUDA enabled"
                    r"|No CUDA GPUs are available|CUDA driver initialization failed")
CUDA_CALL = re.compile(r"\b(?:torch\.)?cuda\.(\w+)\(")
OFFLINE = re.compile(r"Error downloading|urlopen error|Network is unreachable|Name or service "
                     r"not known|Temporary failure in name resolution|No address associated "
                     r"with hostname|Connection refused|Failed to establish a new connection|"
                     r"getaddrinfo failed")
SIZE_MISMATCH = re.compile(r"size mismatch for ([\w.]+): copying a param with shape "
                           r"torch\.Size\(\[([\d, ]*)\]\) from checkpoint, the shape in current "
                           r"model is torch\.Size\(\[([\d, ]*)\]\)")
TAKES = re.compile(r"(\w+)\.(\w+)\(\) takes (\d+) positional arguments? but (\d+) were given$")
MISSING = re.compile(r"(?:(\w+)\.)?(\w+)\(\) missing (\d+) required positional arguments?: "
                     r"(.+)$")
DETACHING = (".detach()", ".item()", ".data", ".numpy()", ".tolist()", "torch.tensor(")
OFF_GRAD = ("no_grad", "inference_mode")


@dataclass
class Case:
    """What a rule may look at: the error, and the learner's source when the caller has it."""

    error: ErrorInfo
    source: str = ""

    @property
    def message(self) -> str:
        return self.error.message

    @property
    def text(self) -> str:
        """The learner's line where the error surfaced ("" when none of their lines did)."""
        return self.error.frames[-1].text if self.error.frames else ""

    @cached_property
    def tree(self) -> ast.Module | None:
        if not self.source:
            return None
        try:
            return ast.parse(self.source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None

    def nodes(self) -> Iterator[ast.AST]:
        return ast.walk(self.tree) if self.tree is not None else iter(())

    def segment(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.source, node) or ""

    def on_failing_line(self) -> Iterator[ast.AST]:
        line = self.error.line
        return (n for n in self.nodes() if getattr(n, "lineno", None) == line)

    @cached_property
    def failing(self) -> ast.expr | None:
        """The failing expression as the worker reported it, parsed on its own: rules read
        it even without the learner's source (and it spans lines the frame's text cuts)."""
        if not self.error.expression:
            return None
        try:
            return ast.parse(self.error.expression.strip(), mode="eval").body
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None

    @property
    def call(self) -> ast.Call | None:
        return self.failing if isinstance(self.failing, ast.Call) else None

    def said(self, node: ast.AST) -> str:
        """A part of the failing expression, as the learner wrote it."""
        return ast.get_source_segment(self.error.expression.strip(), node) or ""

    def operand(self, text: str) -> Operand | None:
        return next((o for o in self.error.operands if o.text == text and not o.within), None)

    def tensor(self, text: str) -> Operand | None:
        return next((o for o in self.error.operands
                     if o.text == text and o.type == "Tensor" and o.shape is not None), None)

    def tensors(self, within: str = "") -> list[Operand]:
        return [o for o in self.error.operands
                if o.type == "Tensor" and o.shape is not None and o.within == within]


Rule = Callable[[Case], "str | None"]


def hint(error: ErrorInfo, source: str = "") -> str | None:
    """The first rule's sentence about ``error``, or None when no rule knows it."""
    case = Case(error, source)
    for rule in _all_rules():
        said = rule(case)
        if said:
            return said
    return None


def clean_message(error: ErrorInfo) -> str:
    """The message, less what would mislead a beginner: torch's ``torch.load`` error offers
    ``weights_only=False`` (which runs any code in the file); only its cause is kept."""
    message = error.message
    for method in ("astype", "copy"):  # Python's "did you mean dtype / copy_?" misleads
        if message.startswith(f"'Tensor' object has no attribute '{method}'"):
            return f"'Tensor' object has no attribute '{method}'"
    if message.startswith("Weights only load failed"):
        found = re.search(r"WeightsUnpickler error: (.*?\.)(?= Please use|\s*\n|$)", message)
        return "Weights only load failed." + (f" {found.group(1)}" if found else "")
    return message


# --------------------------------------------------------------------------- classes


def misspelt_init(case: Case) -> str | None:
    """``class Net: def __int__(self, n)`` then ``Net(3)``: "Net() takes no arguments"."""
    message = case.message
    found = (re.match(r"(\w+)\(\) takes no arguments$", message)
             or re.match(r"(\w+)\.__init__\(\) takes 1 positional argument but \d+ were given$",
                         message))
    attribute = None
    if found is None and case.error.type == "AttributeError":
        found = re.match(r"'(\w+)' object has no attribute '(\w+)'", message)
        attribute = found.group(2) if found else None
    if found is None:
        return None
    name = found.group(1)
    cls = next((n for n in case.nodes() if isinstance(n, ast.ClassDef) and n.name == name), None)
    if cls is None:
        if "takes no arguments" in message:
            return (f"Did you spell `__init__` with two underscores on each side? Python calls "
                    f"the method of exactly that name when you write `{name}(...)`.")
        return None
    methods = [f for f in cls.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))]
    if any(f.name == "__init__" for f in methods):
        return None
    near = next((f for f in methods if _near_init(f.name)), None)
    if near is None:
        if "takes no arguments" in message:
            return (f"`{name}` defines no `__init__`, so `{name}(...)` takes no arguments: add "
                    f"`def __init__(self, ...):` to the class to take them.")
        return None
    if attribute is not None and not _assigns(near, attribute):
        return None
    return (f"`{name}` has no `__init__`: the method on line {near.lineno} is spelled "
            f"`{near.name}`, so Python never calls it. Rename it `__init__` (two underscores "
            "on each side).")


def _near_init(name: str) -> bool:
    if name == "__init__":
        return False
    return (name.strip("_").lower() in MISSPELT_INIT
            or difflib.SequenceMatcher(None, name.lower(), "__init__").ratio() >= 0.8)


def _assigns(function: ast.AST, attribute: str) -> bool:
    return any(isinstance(n, ast.Attribute) and n.attr == attribute
               and isinstance(n.ctx, ast.Store) for n in ast.walk(function))


def transform_without_parens(case: Case) -> str | None:
    """``transform=transforms.ToTensor``: the dataset calls ``ToTensor(image)``."""
    found = re.search(r"\b(\w+)\.__init__\(\) (?:takes|missing|got)", case.message)
    if found is None or found.group(1) not in TRANSFORMS:
        return None
    name = found.group(1)
    bare = next(iter(_uncalled(case, lambda written: written.split(".")[-1] == name)), None)
    if bare is None:
        return (f"Was `{name}` passed without `()`? A transform is an object made from its "
                f"class: write `transforms.{name}()`, and the dataset calls it on each image.")
    written, line = bare
    return (f"`{written}` on line {line} is passed without `()`: a transform is an object made "
            f"from its class, so write `{written}()`"
            + (" with its arguments." if name in ("Normalize", "Resize") else "."))


def class_without_parens(case: Case) -> str | None:
    """``model = Network`` (no ``()``), then ``model.parameters()`` or ``model(x)``."""
    method = re.search(r"(\w+)\(\) missing 1 required positional argument: 'self'",
                       case.message)
    if "is not callable" in case.message:
        return None
    classes = _bare_classes(case)
    for node in case.on_failing_line():
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        target = func.value if isinstance(func, ast.Attribute) and method else func
        if isinstance(target, ast.Name) and target.id in classes:
            cls, line = classes[target.id]
            if line == 0:  # a class of the learner's own, used by its name
                if method is None:
                    continue
                return (f"`{cls}.{method.group(1)}()` calls the method on the class `{cls}` "
                        f"itself: make an object first (`model = {cls}()`) and call "
                        f"`model.{method.group(1)}()`.")
            return (f"`{target.id}` is the class `{cls}` itself, not an object made from it "
                    f"(line {line}: `{target.id} = {cls}`): write `{target.id} = {cls}()`.")
    if method is not None:
        return (f"Did you call `.{method.group(1)}()` on a class rather than on an object made "
                "from it? Make the object with `()` first, for example `model = Network()`.")
    return None


def _bare_classes(case: Case) -> dict[str, tuple[str, int]]:
    """Names bound to a class itself rather than an object: ``model = Network`` (name ->
    (class as written, line)); the learner's own classes too (line 0)."""
    found: dict[str, tuple[str, int]] = {}
    called: set[str] = set()
    classes = {n.name for n in case.nodes() if isinstance(n, ast.ClassDef)}
    imported = {a.asname or a.name for n in case.nodes() if isinstance(n, ast.ImportFrom)
                for a in n.names}
    for name in classes:
        found[name] = (name, 0)
    for node in case.nodes():
        if not isinstance(node, ast.Assign) or len(node.targets) != 1:
            continue
        target, value = node.targets[0], node.value
        if not isinstance(target, ast.Name):
            continue
        last = case.segment(value).rsplit(".", 1)[-1]
        if (isinstance(value, ast.Attribute) and last[:1].isupper() and not last.isupper()) \
                or (isinstance(value, ast.Name) and (value.id in classes
                                                     or value.id in imported and last[:1].isupper())):
            found[target.id] = (case.segment(value), node.lineno)
        else:
            called.add(target.id)
    return {name: where for name, where in found.items() if name not in called}


def _uncalled(case: Case, wanted: Callable[[str], bool]) -> list[tuple[str, int]]:
    """Dotted names (``transforms.ToTensor``) used as values, not called: (as written, line)."""
    funcs = {id(n.func) for n in case.nodes() if isinstance(n, ast.Call)}
    inner = {id(n.value) for n in case.nodes() if isinstance(n, ast.Attribute)}
    found = []
    for node in case.nodes():
        if isinstance(node, (ast.Name, ast.Attribute)) and id(node) not in funcs \
                and id(node) not in inner and isinstance(node.ctx, ast.Load):
            written = case.segment(node)
            if wanted(written):
                found.append((written, node.lineno))
    return sorted(found, key=lambda item: item[1])


# --------------------------------------------------------------------------- arguments


def method_called_on_class(case: Case) -> str | None:
    """``RunBuilder.get_runs(params)`` where ``def get_runs(self, params)``: called on the
    class, no object fills ``self``, so the first argument does and the last gets none."""
    found = MISSING.match(case.message)
    call = case.call
    if found is None or call is None or not found.group(1) or found.group(2).startswith("__"):
        return None
    cls, method = found.group(1), found.group(2)
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr == method
            and isinstance(func.value, ast.Name) and func.value.id == cls):
        return None
    missing = [n for n in _missing(found.group(4)) if n != "self"]
    if not missing:
        return None  # nothing but `self` missing: class_without_parens says it
    args = ", ".join(case.said(a) for a in call.args)
    left = (f"so your first argument, `{case.said(call.args[0])}`, goes into `self`, and "
            f"{_listed(missing)} {_gets(missing)} no value" if call.args
            else f"so nothing fills `self`, and {_listed(missing)} {_gets(missing)} no value")
    if case.tree is None:
        return (f"Does `def {method}` take `self` first? Called on the class `{cls}` itself, "
                "not on an object, a method gets no object for `self`: put `@staticmethod` "
                f"above it and drop `self`, or call it on an object made from `{cls}`.")
    define = _method(case, cls, method)
    params = [a.arg for a in define.args.args] if define is not None else []
    if define is None or _decorators(define) & {"staticmethod", "classmethod"} \
            or params[:1] != ["self"]:
        return None
    return (f"`{case.said(func)}(...)` calls the method on the class `{cls}` itself, not on an "
            f"object, {left} (line {define.lineno}: `def {method}({', '.join(params)}):`). "
            f"Either put `@staticmethod` above it and drop `self` (`def {method}"
            f"({', '.join(params[1:])}):`), or call it on an object: "
            f"{_on_an_object(case, cls, method, args)}.")


def method_without_self(case: Case) -> str | None:
    """``def set_name(name)`` called as ``lizard.set_name(n)`` (or ``def __init__(name)``):
    on an object, Python passes the object first, and there is no ``self`` to take it."""
    found = TAKES.match(case.message)
    if found is None:
        return None
    cls, method = found.group(1), found.group(2)
    takes, given = int(found.group(3)), int(found.group(4))
    call = case.call
    on_object = call is not None and isinstance(call.func, ast.Attribute) \
        and call.func.attr == method and len(call.args) == takes
    if given != takes + 1 or (on_object and _called_on(call, cls)):
        return None
    if case.tree is None:
        return None if not on_object else (
            f"Did you forget `self`? Called on an object, a method gets that object first, "
            f"before your {_arguments(takes)}: make `self` the first parameter of "
            f"`{method}`, or put `@staticmethod` above it if it needs no object.")
    define = _method(case, cls, method)
    params = [a.arg for a in define.args.args] if define is not None else []
    if define is None or _decorators(define) & {"staticmethod", "classmethod"} \
            or define.args.vararg is not None or params[:1] in (["self"], ["cls"]) \
            or len(params) != takes:
        return None
    static = "" if method.startswith("__") else \
        ", or put `@staticmethod` above it if it needs no object"
    return (f"Did you forget `self`? `def {method}({', '.join(params)}):` (line "
            f"{define.lineno}) has no `self`, but a method called on an object gets the object "
            f"first, before your {_arguments(takes)} ({given} in all): make `self` its first "
            f"parameter, `def {method}({', '.join(['self', *params])}):`{static}.")


def _called_on(call: ast.Call | None, cls: str) -> bool:
    """``RunBuilder.get_runs(...)``: a method called on the class itself, by its name."""
    func = call.func if call is not None else None
    return isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) \
        and func.value.id == cls


def _method(case: Case, cls: str, method: str) -> ast.FunctionDef | None:
    for node in case.nodes():
        if isinstance(node, ast.ClassDef) and node.name == cls:
            return next((f for f in node.body
                         if isinstance(f, ast.FunctionDef) and f.name == method), None)
    return None


def _decorators(function: ast.FunctionDef) -> set[str]:
    return {d.id if isinstance(d, ast.Name) else d.attr for d in function.decorator_list
            if isinstance(d, (ast.Name, ast.Attribute))}


def _on_an_object(case: Case, cls: str, method: str, args: str) -> str:
    """``RunBuilder().get_runs(params)`` when the class is made without arguments."""
    node = next((n for n in case.nodes() if isinstance(n, ast.ClassDef) and n.name == cls),
                None)
    init = _method(case, cls, "__init__")
    if node is not None and not node.bases and (init is None or len(init.args.args) == 1):
        return f"`{cls}().{method}({args})`"
    return f"one made from `{cls}`"


def _arguments(n: int) -> str:
    return f"{n} argument" + ("" if n == 1 else "s")


def _missing(listed: str) -> list[str]:
    """The parameters Python lists as missing: ``'b' and 'c'``."""
    return re.findall(r"'(\w+)'", listed)


def _listed(names: list[str]) -> str:
    quoted = [f"`{n}`" for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _gets(names: list[str]) -> str:
    return "gets" if len(names) == 1 else "get"


def parent_init_arguments(case: Case) -> str | None:
    """``super().__init__()`` where the parent's ``__init__`` needs arguments."""
    found = MISSING.match(case.message)
    call = case.call
    if found is None or found.group(2) != "__init__" or call is None \
            or not _super_init(call.func):
        return None
    written, missing = case.said(call.func), _missing(found.group(4))
    needs = f"`{written}(...)` runs `{found.group(1)}.__init__`, which needs {_listed(missing)}"
    own = _init_parameters(case)
    if not set(missing) <= set(own):
        return f"{needs}: pass {'it' if len(missing) == 1 else 'them'} on in that call."
    given = [case.said(a) for a in call.args] + [case.said(k) for k in call.keywords]
    added = [f"{m}={m}" for m in missing] if given else missing
    return (f"{needs}: pass on what this `__init__` was given, "
            f"`{written}({', '.join(given + added)})`.")


def _super_init(func: ast.expr) -> bool:
    return isinstance(func, ast.Attribute) and func.attr == "__init__" \
        and isinstance(func.value, ast.Call) and isinstance(func.value.func, ast.Name) \
        and func.value.func.id == "super"


def _init_parameters(case: Case) -> list[str]:
    """The parameters of the ``__init__`` the failing line is in (none without the source)."""
    line = case.error.line or 0
    for node in case.nodes():
        if isinstance(node, ast.FunctionDef) and node.name == "__init__" \
                and node.lineno <= line <= (node.end_lineno or 0):
            return [a.arg for a in (*node.args.args[1:], *node.args.kwonlyargs)]
    return []


def tuple_not_unpacked(case: Case) -> str | None:
    """``Run(v)`` with ``v`` a tuple of the values, or ``Run(*v)`` with ``v`` from
    ``product(params.values())``: one argument where the function wants several."""
    found = MISSING.match(case.message)
    call = case.call
    if case.error.type != "TypeError" or found is None or call is None:
        return None
    owner, function, count = found.group(1), found.group(2), int(found.group(3))
    wanted = owner if function in ("__new__", "__init__") else function
    if _name_of(call.func) != wanted or len(call.args) != 1 or call.keywords:
        return None
    arg, written = call.args[0], case.said(call.func)
    if isinstance(arg, ast.Starred):
        return _product_without_star(case, arg, written)
    text, missing = case.said(arg), _missing(found.group(4))
    left = f"{_listed(missing)} {_gets(missing)} no value"
    operand = case.operand(text)
    if operand is not None and operand.type in ("tuple", "list") \
            and operand.items == count + 1:
        return (f"`{written}({text})` passes the {operand.type} `{text}` ({operand.items} "
                f"items) as one argument, so {left}: unpack it into {operand.items} "
                f"arguments, `{written}(*{text})`.")
    if isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute) \
            and arg.func.attr == "values" and not arg.args:
        return (f"`{text}` is passed as one argument, so {left}: did you mean to unpack it, "
                f"`{written}(*{text})`?")
    return None


def _product_without_star(case: Case, starred: ast.Starred, written: str) -> str | None:
    """``for v in product(params.values())``: one iterable given, so each ``v`` is a tuple of
    one item (a whole list), not one value from each list."""
    if not isinstance(starred.value, ast.Name):
        return None
    name = starred.value.id
    operand = case.operand(name)
    if operand is None or operand.type != "tuple" or operand.items != 1:
        return None
    for loop, text in _loops(case):
        made = loop.iter
        if isinstance(loop.target, ast.Name) and loop.target.id == name \
                and isinstance(made, ast.Call) and _name_of(made.func) == "product" \
                and len(made.args) == 1 and not isinstance(made.args[0], ast.Starred) \
                and not made.keywords:
            product = ast.get_source_segment(text, made.func)
            inner = ast.get_source_segment(text, made.args[0])
            return (f"`{product}({inner})` is given one argument, so each `{name}` it makes "
                    f"holds one item (a whole list) and `{written}(*{name})` passes only "
                    f"that: give `{product}` each list as its own argument, "
                    f"`{product}(*{inner})`.")
    return None


def _loops(case: Case) -> Iterator[tuple[ast.For | ast.comprehension, str]]:
    """``for`` loops and comprehensions, with the text their positions refer to: the
    learner's source, or else the failing line alone."""
    text, tree = case.source, case.tree
    if tree is None:
        text, tree = case.text, _parse_line(case.text)
    for node in ast.walk(tree) if tree is not None else ():
        if isinstance(node, (ast.For, ast.comprehension)):
            yield node, text


def _parse_line(text: str) -> ast.Module | None:
    """One line of the learner's code on its own; a block's header gets a body."""
    for attempt in (text, text + " pass"):
        try:
            return ast.parse(attempt)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
    return None


def _name_of(func: ast.expr) -> str:
    """``product`` for ``product(...)`` and ``itertools.product(...)``."""
    return func.id if isinstance(func, ast.Name) else \
        func.attr if isinstance(func, ast.Attribute) else ""



def object_not_callable(case: Case) -> str | None:
    """``s(x)`` on an object of the learner's class that defines no ``__call__``."""
    found = re.match(r"'(\w+)' object is not callable$", case.message)
    cls = next((n for n in case.nodes() if isinstance(n, ast.ClassDef)
                and found is not None and n.name == found.group(1)), None)
    if found is None or cls is None or cls.bases:
        return None  # a base class (nn.Module...) may bring its own __call__
    methods = [f for f in cls.body if isinstance(f, ast.FunctionDef)]
    near = next((f for f in methods if f.name.strip("_") == "call" and f.name != "__call__"),
                None)
    if near is not None:
        return (f"`{cls.name}` has no `__call__`: the method on line {near.lineno} is spelled "
                f"`{near.name}`, so calling an object, `obj(...)`, never runs it. Rename it "
                "`__call__`.")
    forward = " returning `self.forward(x)`" if any(f.name == "forward" for f in methods) else ""
    return (f"`{cls.name}` defines no `__call__`, the method Python runs when an object is "
            f"called like a function: add `def __call__(self, x):`{forward}.")


def super_without_parens(case: Case) -> str | None:
    """``super.__init__(name)``: ``super`` is called to find the parent class."""
    if not case.message.startswith("descriptor '__init__' requires a 'super' object") \
            or "super.__init__(" not in case.text:
        return None
    fixed = case.text[case.text.index("super.__init__("):].replace("super.", "super().", 1)
    return (f"`super` needs its parentheses: `super()` finds the parent class for this object, "
            f"so write `{fixed}`.")


def self_passed_twice(case: Case) -> str | None:
    """``super().__init__(self, name)``: Python passes ``self`` already."""
    found = TAKES.match(case.message)
    call = case.call
    if found is None or call is None or not call.args \
            or not isinstance(call.args[0], ast.Name) or call.args[0].id != "self" \
            or not isinstance(call.func, ast.Attribute) or call.func.attr != found.group(2) \
            or int(found.group(4)) != int(found.group(3)) + 1:
        return None
    written = case.said(call.func)
    rest = [case.said(a) for a in call.args[1:]] + [case.said(k) for k in call.keywords]
    return (f"`{written}(...)` passes `self` for you: drop it from the arguments, "
            f"`{written}({', '.join(rest)})`.")


def swapped_arguments(case: Case) -> str | None:
    """``get_num_correct(labels, preds)`` for ``def get_num_correct(preds, labels)``: the
    learner's own names, in the other order."""
    if not case.error.frames:
        return None
    if len(case.error.frames) < 2 or case.tree is None:
        return _swapped_given_arguments(case)
    inside, caller = case.error.frames[-1], case.error.frames[-2]
    define = next((n for n in case.nodes() if isinstance(n, ast.FunctionDef)
                   and n.name == inside.name and n.lineno <= (inside.line or 0)
                   <= (n.end_lineno or 0)), None)
    tree = _parse_line(caller.text)
    if define is None or tree is None:
        return _swapped_given_arguments(case)
    params = [a.arg for a in define.args.args]
    if params[:1] in (["self"], ["cls"]):
        params = params[1:]  # filled by Python: the call's arguments are the rest
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
        names = [a.id for a in call.args if isinstance(a, ast.Name)]
        if _name_of(call.func) == define.name and len(names) == len(call.args) > 1 \
                and names != params[:len(names)] and sorted(names) == sorted(params[:len(names)]):
            written = ast.get_source_segment(caller.text, call.func)
            return (f"`{written}({', '.join(names)})` passes its arguments in another order "
                    f"than `def {define.name}({', '.join(params)}):` (line {define.lineno}) "
                    f"takes them: write `{written}({', '.join(params[:len(names)])})`.")
    return None


def _swapped_given_arguments(case: Case) -> str | None:
    """The same for a function the learner did not write (the step gives it): its
    parameters come from the worker, which read them off the function."""
    tree = _parse_line(case.text)
    if tree is None:
        return None
    given = {o.text: o.detail.split(", ") for o in case.error.operands
             if o.type == "function" and o.detail}
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
        name = _name_of(call.func)
        names = [a.id for a in call.args if isinstance(a, ast.Name)]
        params = given.get(ast.unparse(call.func), [])
        if params and len(names) == len(call.args) > 1 and names != params[:len(names)] \
                and sorted(names) == sorted(params[:len(names)]):
            return (f"`{name}({', '.join(names)})` passes its arguments in another order than "
                    f"`{name}` takes them, `({', '.join(params)})`: write "
                    f"`{name}({', '.join(params[:len(names)])})`.")
    return None


# --------------------------------------------------------------------------- tensors


def list_of_tensors(case: Case) -> str | None:
    """``torch.tensor([t1, t2])`` on tensors of more than one number each."""
    if "only one element tensors can be converted to Python scalars" not in case.message:
        return None
    listed = next((o for o in case.error.operands if o.of == "Tensor"), None)
    call = re.search(r"torch\.(?:tensor|Tensor|FloatTensor|LongTensor|as_tensor)\(", case.text)
    if call is None or listed is None:
        return ("Did you pass a list of tensors to `torch.tensor(...)`? To join tensors into "
                "one, use `torch.stack(...)` on the list.")
    name = listed.text
    return (f"`{call.group(0)}...)` cannot make one tensor from `{name}`, a list of "
            f"{listed.items} tensors: use `torch.stack({name})`, which stacks them along a new "
            f"first axis (`torch.cat({name})` joins them along an axis they already have).")


def item_of_many(case: Case) -> str | None:
    """``.item()`` on a tensor of more than one number."""
    found = re.match(r"a Tensor with (\d+) elements cannot be converted to Scalar", case.message)
    if found is None or ".item()" not in case.text:
        return None
    return (f"`.item()` gives the number in a tensor that holds exactly one, and this one holds "
            f"{found.group(1)}: reduce it first (`.sum()`, `.mean()`) or index the one you "
            "want.")


def cuda_call_without_gpu(case: Case) -> str | None:
    """``torch.cuda.synchronize()`` (or another ``torch.cuda`` call) without a GPU: nothing
    is moved there, so ``.to(device)`` is not the fix; calling it only on a GPU is."""
    failed = case.error.expression or case.text
    called = CUDA_CALL.search(failed)
    if not NO_GPU.search(case.message) or called is None or ".cuda(" in failed:
        return None
    name = called.group(0)[:-1]
    if called.group(1) == "synchronize":
        device = _device_name(case)
        return (f"`{name}()` waits for an NVIDIA GPU to finish its work, and this machine has "
                f"none: call it only when the code runs on a GPU, `if {device}.type == "
                f"\"cuda\": {name}()`.")
    return (f"`{name}(...)` needs an NVIDIA GPU, and this machine has none: call it only when "
            "there is one, under `if torch.cuda.is_available():`.")


def _device_name(case: Case) -> str:
    """The failing function's own device parameter (``dev``, ``device``...), else the
    ``device`` the tutor defines: a ``torch.device`` either way, which has ``.type``."""
    frame = case.error.frames[-1] if case.error.frames else None
    for node in case.nodes():
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and frame is not None \
                and node.name == frame.name \
                and node.lineno <= (frame.line or 0) <= (node.end_lineno or 0):
            params = [a.arg for a in (*node.args.args, *node.args.kwonlyargs)]
            return next((p for p in params if "device" in p or p == "dev"), "device")
    return "device"


def no_gpu(case: Case) -> str | None:
    """``.cuda()`` or ``device="cuda"`` on a machine without an NVIDIA GPU."""
    if not NO_GPU.search(case.message):
        return None
    fix = ("use `.to(device)` instead: `device` is set for you to the device your code runs "
           "on, so the same code works with and without a GPU.")
    if re.search(r"\.cuda\(|[\"']cuda", case.text):
        return (f"Line {case.error.line} puts something on the GPU (`cuda`), but this machine "
                f"has no NVIDIA GPU: {fix}")
    return f"This machine has no NVIDIA GPU, so nothing can go to `cuda`: {fix}"


def unpickling(case: Case) -> str | None:
    """``torch.save(model, path)`` then ``torch.load(path)``: a whole pickled model."""
    if case.error.type != "UnpicklingError" and "Weights only load failed" not in case.message:
        return None
    def fix(model: str) -> str:
        return ("`torch.load` reads tensors, not whole objects: save the weights with "
                f"`torch.save({model}.state_dict(), path)`, then build the model and load them "
                f"with `{model}.load_state_dict(torch.load(path))`.")

    for node in case.nodes():
        if isinstance(node, ast.Call) and case.segment(node.func) in ("torch.save", "save") \
                and node.args and isinstance(node.args[0], ast.Name):
            name = node.args[0].id
            return f"Line {node.lineno} saves the whole `{name}`. {fix(name)}"
    return fix("model")


def offline_download(case: Case) -> str | None:
    """A data set downloaded where there is no network (there is none in the sandbox)."""
    if not OFFLINE.search(case.message) and case.error.type not in ("URLError", "gaierror"):
        return None
    for node in case.nodes():
        if isinstance(node, ast.keyword) and node.arg == "download" \
                and isinstance(node.value, ast.Constant) and node.value.value is True:
            return (f"There is no network here, so line {node.value.lineno} cannot download the "
                    "data set (`download=True`): load the copy provided, with "
                    "`root=DATA_DIR, download=False`.")
    return ("Your code tried to reach the network, which is not available here. The data sets "
            "are provided: load them with `root=DATA_DIR, download=False`.")


def no_grad(case: Case) -> str | None:
    """``loss.backward()`` on a value autograd did not record."""
    if "does not require grad and does not have a grad_fn" not in case.message:
        return None
    called = re.search(r"([\w.]+)\.backward\(", case.text)
    name = called.group(1) if called else "the value"
    if called is not None and case.tree is not None:
        cause = _ungraded(case, name.split(".")[0])
        if cause:
            return cause
    return (f"Was `{name}` computed inside a `torch.no_grad()` block, or from a detached tensor "
            "(`.detach()`, `.item()`, `torch.tensor(...)`)? `.backward()` needs a value that "
            "autograd recorded from tensors that require grad.")


def _ungraded(case: Case, name: str) -> str | None:
    """Why ``name`` has no gradient, found in the source: the assignment that made it (or one
    it was computed from) sits in a ``no_grad`` block or detaches its value."""
    assignments = _assignments(case)
    todo, seen = [name], set[str]()
    while todo and len(seen) < 20:
        current = todo.pop(0)
        if current in seen:
            continue
        seen.add(current)
        for value, line, blocks in assignments.get(current, []):
            block = next((b for b in blocks if any(off in b for off in OFF_GRAD)), None)
            if block is not None:
                return (f"`{current}` is computed on line {line}, inside `with {block}:`, "
                        "where autograd records nothing: compute it outside that block (keep "
                        "`no_grad` for evaluation only).")
            text = case.segment(value)
            cut = next((d for d in DETACHING if d in text), None)
            if cut is not None:
                return (f"`{current}` is made with `{cut.rstrip('(')}` on line {line}, which "
                        "cuts it off from autograd: compute it from the model's output "
                        "directly.")
            todo += [n.id for n in ast.walk(value) if isinstance(n, ast.Name)]
    for node in case.nodes():
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Attribute) and t.attr == "requires_grad" for t in node.targets) \
                and isinstance(node.value, ast.Constant) and node.value.value is False:
            return (f"Line {node.lineno} sets `requires_grad = False`, so nothing computed from "
                    "those tensors records gradients: leave it on for what you train.")
    return None


def _assignments(case: Case) -> dict[str, list[tuple[ast.expr, int, list[str]]]]:
    """Each name's assignments: the value, its line, and the ``with`` blocks around it."""
    found: dict[str, list[tuple[ast.expr, int, list[str]]]] = {}

    def visit(node: ast.AST, blocks: list[str]) -> None:
        if isinstance(node, (ast.With, ast.AsyncWith)):
            blocks = blocks + [", ".join(case.segment(i.context_expr) for i in node.items)]
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and node.value:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        found.setdefault(name.id, []).append((node.value, node.lineno, blocks))
        for child in ast.iter_child_nodes(node):
            visit(child, blocks)

    if case.tree is not None:
        visit(case.tree, [])
    return found


def state_dict_mismatch(case: Case) -> str | None:
    """``load_state_dict`` with weights saved from a model of other layer sizes or names."""
    if "Error(s) in loading state_dict" not in case.message:
        return None
    pairs = SIZE_MISMATCH.findall(case.message)
    if pairs:
        shown = "; ".join(f"`{name}` is [{saved}] in the saved weights but [{mine}] in this "
                          f"model" for name, saved, mine in pairs[:3])
        layers = list(dict.fromkeys(name.rsplit(".", 1)[0] for name, _, _ in pairs
                                    if "." in name))
        named = ", ".join(f"`{layer}`" for layer in layers[:3])
        which = f" (layer{_s(layers)} {named})" if layers else ""
        return (f"The saved weights come from a model with other layer sizes: {shown}. Build "
                f"the model with the sizes it had when it was saved{which}, or save the "
                "weights again from the model as it is now.")
    if "Missing key(s)" in case.message or "Unexpected key(s)" in case.message:
        return ("The saved weights name their layers differently from this model: load them "
                "into the same model class (with the same attribute names) that saved them.")
    return None


# --------------------------------------------------------------------------- layers

NOT_A_MODULE = re.compile(r"([\w.<>]+) is not a Module subclass$")
# A function of torch's and the layer that does the same in nn.Sequential.
LAYER_OF = {
    "relu": "nn.ReLU()", "sigmoid": "nn.Sigmoid()", "tanh": "nn.Tanh()",
    "leaky_relu": "nn.LeakyReLU()", "gelu": "nn.GELU()", "elu": "nn.ELU()", "silu": "nn.SiLU()",
    "softmax": "nn.Softmax(dim=...)", "log_softmax": "nn.LogSoftmax(dim=...)",
    "flatten": "nn.Flatten()", "dropout": "nn.Dropout(p=...)",
    "max_pool1d": "nn.MaxPool1d(...)", "max_pool2d": "nn.MaxPool2d(...)",
    "avg_pool1d": "nn.AvgPool1d(...)", "avg_pool2d": "nn.AvgPool2d(...)",
}
# torch wraps these in one function named `fn`: the message cannot name them.
DISPATCHED = frozenset(("max_pool1d", "max_pool2d", "max_pool3d", "adaptive_max_pool1d",
                        "adaptive_max_pool2d", "adaptive_max_pool3d"))
NO_ARGUMENTS = frozenset((
    "ReLU", "Sigmoid", "Tanh", "Flatten", "Identity", "LeakyReLU", "GELU", "ELU", "SiLU",
    "ReLU6", "SELU", "CELU", "Mish", "Softplus", "Softsign", "LogSigmoid", "Hardtanh",
    "Hardswish", "Hardsigmoid", "Tanhshrink", "PReLU", "Dropout",
))


def not_a_module(case: Case) -> str | None:
    """``nn.Sequential(nn.ReLU)``, ``nn.Sequential(F.relu)``, ``nn.Sequential([...])``:
    a container of layers given a class, a function or a list."""
    found = NOT_A_MODULE.match(case.message)
    if case.error.type != "TypeError" or found is None:
        return None
    given = found.group(1)
    if given in ("list", "tuple", "dict"):
        return _not_layers(case, given)
    if given.startswith("torch.nn.modules."):
        return _layer_class(case, given.rsplit(".", 1)[-1])
    if given.startswith("torch."):
        return _layer_function(case, given)
    return None


def _layer_class(case: Case, cls: str) -> str:
    """``nn.ReLU`` (the class) where a layer (``nn.ReLU()``) goes."""
    made = "" if cls in NO_ARGUMENTS else " with its arguments"
    bare = _bare_classes(case)
    for written in _uncalled_in(case):
        if written in bare and bare[written][0].rsplit(".", 1)[-1] == cls:
            value, line = bare[written]
            return (f"`{written}` is the class `{value}` itself, not a layer (line {line}: "
                    f"`{written} = {value}`): write `{written} = {value}()`{made}.")
    written = next((w for w in _uncalled_in(case) if w.rsplit(".", 1)[-1] == cls), f"nn.{cls}")
    return (f"`{written}` is the layer's class, not a layer: a layer is an object made from "
            f"it, `{written}()`{made}.")


def _layer_function(case: Case, given: str) -> str | None:
    """``F.relu`` (or ``torch.relu``) where a layer goes."""
    name = given.rsplit(".", 1)[-1]
    uncalled = _uncalled_in(case)
    if "boolean_dispatch" in given:
        seen = {w for w in uncalled if w.rsplit(".", 1)[-1] in DISPATCHED}
        if len(seen) != 1:
            return None
        written = seen.pop()
    else:
        prefix = "F." if given.startswith("torch.nn.functional.") else "torch."
        written = next((w for w in uncalled if w.rsplit(".", 1)[-1] == name), prefix + name)
    layer = LAYER_OF.get(written.rsplit(".", 1)[-1])
    if layer is not None:
        filled = " with its arguments" if "..." in layer else ""
        return f"`{written}` is a function, not a layer: use the layer `{layer}`{filled}."
    if not given.startswith("torch.nn.functional."):
        return None
    return (f"`{written}` is a function, not a layer: use the layer class of `torch.nn` that "
            f"does the same (made with `()`), or call `{written}` in a module's `forward`.")


def _not_layers(case: Case, kind: str) -> str | None:
    """``nn.Sequential([...])``: its layers one by one, or (name, layer) pairs in an
    ``OrderedDict``."""
    call = next((n for n in ast.walk(case.failing) if isinstance(n, ast.Call)
                 and _name_of(n.func) == "Sequential"), None) if case.failing else None
    if call is None:
        return None
    sequential, args = case.said(call.func), call.args
    if kind == "tuple" and args and all(_pair(a) for a in args):
        return _wrap(sequential, "[" + ", ".join(case.said(a) for a in args) + "]")
    if len(args) != 1 or call.keywords:
        return None
    starred = isinstance(args[0], ast.Starred)
    inner = args[0].value if isinstance(args[0], ast.Starred) else args[0]
    text, operand = case.said(inner), case.operand(case.said(inner))
    if kind == "dict":
        return None if starred else _wrap(sequential, text)
    elements = inner.elts if isinstance(inner, (ast.List, ast.Tuple)) else None
    held = operand.type if operand is not None else \
        {ast.List: "list", ast.Tuple: "tuple"}.get(type(inner))
    if elements is not None:
        pairs = bool(elements) and all(_pair(e) for e in elements)
    else:  # a list of tuples (the worker saw its items)
        pairs = operand is not None and operand.of == "tuple"
    if starred:  # the message is about one item: a pair is a tuple
        return _wrap(sequential, text) if pairs and kind == "tuple" else None
    if held is not None and held != kind:
        return None
    if pairs:
        return _wrap(sequential, text)
    if elements is not None:
        return (f"`{sequential}` takes the layers one by one, not in a {kind}: drop the "
                f"brackets, `{sequential}({', '.join(case.said(e) for e in elements)})`.")
    return (f"`{sequential}` takes the layers one by one, not in a {kind}: unpack it, "
            f"`{sequential}(*{text})`.")


def _pair(node: ast.expr) -> bool:
    """``("fc1", nn.Linear(...))``: a name and a layer."""
    return isinstance(node, ast.Tuple) and len(node.elts) == 2 \
        and isinstance(node.elts[0], ast.Constant) and isinstance(node.elts[0].value, str)


def _wrap(sequential: str, pairs: str) -> str:
    return (f"`{sequential}` takes named layers only in an `OrderedDict`: wrap the (name, "
            f"layer) pairs, `{sequential}(OrderedDict({pairs}))`, with "
            "`from collections import OrderedDict`.")


def _uncalled_in(case: Case) -> list[str]:
    """Names in the failing expression used as values, not called: ``nn.ReLU``, ``F.relu``."""
    if case.failing is None:
        return []
    nodes = list(ast.walk(case.failing))
    skip = {id(n.func) for n in nodes if isinstance(n, ast.Call)}
    skip |= {id(n.value) for n in nodes if isinstance(n, ast.Attribute)}
    return [case.said(n) for n in nodes if isinstance(n, (ast.Name, ast.Attribute))
            and id(n) not in skip and _dotted(n)]


def batch_norm_channels(case: Case) -> str | None:
    """A BatchNorm layer made for another number of channels than come in."""
    found = re.match(r"(running_mean|weight) should contain (\d+) elements not (\d+)$",
                     case.message)
    if found is None:
        return None
    came, made = found.group(2), found.group(3)
    layer = next((o for o in case.error.operands if re.fullmatch(r"BatchNorm[123]d", o.type)
                  and o.detail.split(",")[0] == made), None)
    kinds = set(re.findall(rf"\b(BatchNorm[123]d)\(\s*(?:num_features\s*=\s*)?{made}\b",
                           case.source))
    kind = layer.type if layer is not None else kinds.pop() if len(kinds) == 1 else None
    if kind is None and found.group(1) != "running_mean":
        return None  # "weight should contain" is not only BatchNorm's
    unit = "features" if kind == "BatchNorm1d" else "channels"
    what = (f"`{layer.text}` is `{kind}({made})`, made" if layer is not None
            else f"The `{kind}({made})` layer was made" if kind is not None
            else "A BatchNorm layer was made")
    fix = f"make it `{kind}({came})`" if kind else f"make its number {came}"
    return (f"{what} for {made} {unit}, but {came} come in: {fix} (its number must match the "
            f"{unit} of the layer before it).")


def tensor_as_parameter(case: Case) -> str | None:
    """``fc.weight = W``: a module's parameter must be an ``nn.Parameter``."""
    found = re.match(r"cannot assign '(torch\.\w*Tensor)' as parameter '(\w+)' ", case.message)
    if found is None:
        return None
    tree = _parse_line(case.text)
    assign = tree.body[0] if tree is not None and tree.body else None
    if isinstance(assign, ast.Assign) and len(assign.targets) == 1 \
            and isinstance(assign.targets[0], ast.Attribute) \
            and assign.targets[0].attr == found.group(2):
        target = ast.get_source_segment(case.text, assign.targets[0])
        value = ast.get_source_segment(case.text, assign.value)
        return (f"`{target}` must hold an `nn.Parameter` (a tensor the module trains), and "
                f"`{value}` is a plain tensor: wrap it, `{target} = nn.Parameter({value})`.")
    return (f"A module's `{found.group(2)}` must be an `nn.Parameter` (a tensor the module "
            "trains): wrap the tensor, `nn.Parameter(tensor)`.")


def weights_called(case: Case) -> str | None:
    """``model = torch.load(path)`` then ``model(x)``: what was loaded is a state_dict."""
    call = case.call
    if not re.match(r"'(?:collections\.OrderedDict|dict)' object is not callable$",
                    case.message) or call is None or not isinstance(call.func, ast.Name):
        return None
    name, line = call.func.id, case.error.line or 0
    loads = [n for n in case.nodes() if isinstance(n, ast.Assign) and n.lineno < line
             and any(isinstance(t, ast.Name) and t.id == name for t in n.targets)]
    load = max(loads, key=lambda n: n.lineno).value if loads else None
    if not isinstance(load, ast.Call) or _name_of(load.func) != "load":
        return None
    return (f"`{name}` is what `{case.segment(load.func)}` returned on line {load.lineno}: the "
            "saved weights (a `state_dict`, a dictionary of tensors), not a model. Make "
            f"`{name}` the model first (from its class, as when it was saved), then load the "
            f"weights into it: `{name}.load_state_dict({case.segment(load)})`.")


DATASETS = frozenset(("FashionMNIST", "MNIST", "KMNIST", "EMNIST", "CIFAR10", "CIFAR100",
                      "ImageFolder", "TensorDataset", "Subset"))
# A layer class given a tensor, and the function that applies the same thing.
FUNCTION_OF = {"ReLU": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh"}


def layer_class_applied(case: Case) -> str | None:
    """``nn.ReLU(x)``: that makes a layer (with ``x`` as a setting), it does not apply one."""
    found = re.search(r"must be Tensor, not (\w+)$|^(\w+)\.__init__\(\) takes 1 positional "
                      r"argument but 2 were given$", case.message)
    if found is None or case.failing is None:
        return None
    name = found.group(1) or found.group(2)
    made = next((n for n in ast.walk(case.failing) if isinstance(n, ast.Call)
                 and _name_of(n.func) == name and len(n.args) == 1), None)
    if name not in FUNCTION_OF or made is None:
        return None
    module = "F" if re.search(r"import torch\.nn\.functional as F\b", case.source) else "torch"
    inner = case.said(made.args[0])
    return (f"`{case.said(made)}` makes a {name} layer (taking `{inner}` as a setting) instead "
            f"of applying it: use the function, `{module}.{FUNCTION_OF[name]}({inner})`, or "
            f"make the layer once and call it, `{case.said(made.func)}()({inner})`.")


def matmul_order(case: Case) -> str | None:
    """``w @ x`` with ``w`` [5, 3] and ``x`` [5]; or ``x * w`` meant as a matrix product."""
    expression = case.failing
    if not isinstance(expression, ast.BinOp) or not isinstance(expression.op, (ast.MatMult,
                                                                                ast.Mult)):
        return None
    a, b = case.tensor(case.said(expression.left)), case.tensor(case.said(expression.right))
    if a is None or b is None:
        return None
    vector, matrix = (a, b) if len(a.shape or ()) == 1 else (b, a)
    rows, columns = (matrix.shape or (0, 0))[:2] if len(matrix.shape or ()) == 2 else (0, 0)
    if len(vector.shape or ()) != 1 or (vector.shape or (0,))[0] != rows or rows == columns:
        return None
    fixed = f"`{vector.text} @ {matrix.text}` (which gives [{columns}])"
    if isinstance(expression.op, ast.MatMult) and "size mismatch" in case.message:
        return (f"`{a.text} @ {b.text}` needs `{b.text}` to have {columns} values, the columns "
                f"of `{matrix.text}` [{rows}, {columns}], and it has {rows}: multiply the other "
                f"way round, {fixed}.")
    if isinstance(expression.op, ast.Mult) and "must match the size" in case.message:
        rowwise = (f"`{vector.text}[:, None] * {matrix.text}`" if a is vector
                   else f"`{matrix.text} * {vector.text}[:, None]`")
        return (f"`*` multiplies element by element, lining up the last axes ({rows} against "
                f"{columns}): for the matrix product (`@`), which sums over the {rows}, write "
                f"{fixed}; to multiply each row of `{matrix.text}` by one value of "
                f"`{vector.text}`, {rowwise}.")
    return None


def bce_range(case: Case) -> str | None:
    """``F.binary_cross_entropy(z, y)`` on scores (logits) rather than probabilities."""
    call = case.call
    if "all elements of input should be between 0 and 1" not in case.message or call is None \
            or _name_of(call.func) != "binary_cross_entropy" or not call.args:
        return None
    written, scores = case.said(call.func), case.said(call.args[0])
    args = ", ".join([case.said(a) for a in call.args] + [case.said(k) for k in call.keywords])
    return (f"`{written}` takes probabilities, between 0 and 1, and `{scores}` has values "
            f"outside them: turn them into probabilities with `torch.sigmoid({scores})` first, "
            f"or use `{written}_with_logits({args})`, which does that for you.")


def cross_entropy_swapped(case: Case) -> str | None:
    """``F.cross_entropy(labels, preds)``: the scores go first, then the class indices."""
    call = case.call
    if call is None or len(call.args) != 2 or call.keywords:
        return None
    callee = case.operand(case.said(call.func))
    if _name_of(call.func) != "cross_entropy" and (callee is None
                                                   or callee.type != "CrossEntropyLoss"):
        return None
    labels, scores = (case.tensor(case.said(a)) for a in call.args)
    if labels is None or scores is None or not labels.dtype.startswith(("int", "uint")) \
            or not scores.dtype.startswith(("float", "bfloat")) or len(labels.shape or ()) != 1 \
            or len(scores.shape or ()) != 2 or (labels.shape or ())[0] != (scores.shape or ())[0]:
        return None
    written = case.said(call.func)
    return (f"The arguments are the other way round: `{written}` takes the scores first, "
            f"then the labels, `{written}({scores.text}, {labels.text})`.")


def zero_grad_on_a_tensor(case: Case) -> str | None:
    """``loss.zero_grad()``: gradients are cleared through the optimizer (or the model)."""
    if case.message != "'Tensor' object has no attribute 'zero_grad'":
        return None
    made = [n for n in case.nodes() if isinstance(n, ast.Assign) and len(n.targets) == 1
            and isinstance(n.targets[0], ast.Name) and isinstance(n.value, ast.Call)
            and "optim." in case.segment(n.value.func)]
    name = made[0].targets[0].id if made and isinstance(made[0].targets[0], ast.Name) \
        else "optimizer"
    return (f"`zero_grad()` belongs to the optimizer (or the model), not to a tensor: "
            f"`{name}.zero_grad()` clears the gradients of every weight it updates.")


def grad_is_none(case: Case) -> str | None:
    """``w.grad.clone()`` before any ``backward()`` (or after ``zero_grad()``)."""
    failing = case.failing
    if not case.message.startswith("'NoneType' object has no attribute") \
            or not isinstance(failing, ast.Attribute) \
            or not isinstance(failing.value, ast.Attribute) or failing.value.attr != "grad":
        return None
    grad = case.said(failing.value)
    return (f"`{grad}` is None: a gradient is there only after `.backward()` has run, and "
            "`zero_grad()` empties it again. Read it after `loss.backward()` (and before the "
            "next `zero_grad()`).")


def load_state_dict_result(case: Case) -> str | None:
    """``loaded = model.load_state_dict(...)`` then ``loaded(x)``: it returns a report."""
    call = case.call
    if case.message != "'_IncompatibleKeys' object is not callable" or call is None \
            or not isinstance(call.func, ast.Name):
        return None
    name, line = call.func.id, case.error.line or 0
    made = [n for n in case.nodes() if isinstance(n, ast.Assign) and n.lineno < line
            and any(isinstance(t, ast.Name) and t.id == name for t in n.targets)]
    value = max(made, key=lambda n: n.lineno).value if made else None
    if not isinstance(value, ast.Call) or not isinstance(value.func, ast.Attribute) \
            or value.func.attr != "load_state_dict":
        return None
    model = case.segment(value.func.value)
    return (f"`{name}` is what `load_state_dict` returned on line {value.lineno}, a note of "
            f"missing and unexpected keys, not a model: it loads the weights into `{model}` "
            f"itself, so call `{model}(...)`.")


def move_not_kept(case: Case) -> str | None:
    """``images.to(device)`` on a line of its own: a tensor's ``.to`` returns a moved copy."""
    if "device" not in case.message:
        return None
    tensors, line = {o.text for o in case.tensors()}, case.error.line or 0
    for node in case.nodes():
        call = node.value if isinstance(node, ast.Expr) else None
        if isinstance(call, ast.Call) and call.lineno < line \
                and isinstance(call.func, ast.Attribute) \
                and call.func.attr in ("to", "cuda", "cpu") \
                and isinstance(call.func.value, ast.Name) and call.func.value.id in tensors:
            name, written = call.func.value.id, case.segment(call)
            return (f"Line {call.lineno}: `{written}` returns a moved copy and leaves `{name}` "
                    f"where it was: keep the copy, `{name} = {written}`.")
    return None


def batch_axis_flattened(case: Case) -> str | None:
    """``t.flatten()`` before a ``Linear`` layer: the batch axis is flattened too."""
    layer = next((o for o in case.error.operands if o.type == "Linear"), None)
    features = re.search(r"in_features=(\d+)", layer.detail) if layer is not None else None
    inputs = case.tensors()
    if "shapes cannot be multiplied" not in case.message or layer is None or features is None \
            or len(inputs) != 1 or len(inputs[0].shape or ()) != 1:
        return None
    x, wanted = inputs[0], int(features.group(1))
    size = (x.shape or (0,))[0]
    if size % wanted or size == wanted:
        return None
    said = (f"`{x.text}` is [{size}], one axis: its batch axis is gone, and `{layer.text}` "
            f"takes a batch of rows of {wanted} values")
    flattened = next((n for n in case.nodes() if isinstance(n, ast.Assign)
                      and any(case.segment(t) == x.text for t in n.targets)
                      and isinstance(n.value, ast.Call) and _flattens_all(case, n.value)), None)
    if flattened is None or not isinstance(flattened.value, ast.Call):
        return f"{said}. Did a `flatten()` flatten the batch axis too? `start_dim=1` keeps it."
    written = case.segment(flattened.value)
    fixed = written[:-1] + (", " if flattened.value.args else "") + "start_dim=1)"
    return (f"{said}. `{written}` on line {flattened.lineno} flattens the batch axis too: keep "
            f"it with `{fixed}`.")


def batch_axis_reshaped(case: Case) -> str | None:
    """``t.reshape(t.shape[1], -1)`` before a ``Linear`` layer: the rows are not the batch."""
    layer = next((o for o in case.error.operands if o.type == "Linear"), None)
    features = re.search(r"in_features=(\d+)", layer.detail) if layer is not None else None
    inputs = case.tensors()
    if "shapes cannot be multiplied" not in case.message or layer is None or features is None \
            or len(inputs) != 1 or len(inputs[0].shape or ()) != 2:
        return None
    x, wanted = inputs[0], int(features.group(1))
    rows, columns = (x.shape or (0, 0))[:2]
    if columns == wanted or rows * columns % wanted:
        return None
    for node in case.nodes():
        value = node.value if isinstance(node, ast.Assign) and len(node.targets) == 1 \
            and case.segment(node.targets[0]) == x.text else None
        if isinstance(value, ast.Call) and _name_of(value.func) in ("reshape", "view") \
                and isinstance(value.func, ast.Attribute) and len(value.args) == 2 \
                and _axis_size(case, value.args[0]) not in (None, "0"):
            first = case.segment(value.args[0])
            receiver = case.segment(value.func.value)
            return (f"`{x.text}` is [{rows}, {columns}]: line {value.lineno} makes its first "
                    f"axis `{first}` long, and the batch axis is axis 0: keep the batch axis "
                    f"first, `{receiver}.{value.func.attr}({receiver}.shape[0], -1)`, so each "
                    f"row holds one example.")
    return None


def _axis_size(case: Case, node: ast.expr) -> str | None:
    """``t.shape[1]`` or ``t.size(1)``: the axis a size is read from ("1"), else None."""
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) \
            and node.value.attr == "shape":
        return case.segment(node.slice)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
            and node.func.attr == "size" and len(node.args) == 1:
        return case.segment(node.args[0])
    return None


def _flattens_all(case: Case, call: ast.Call) -> bool:
    """``t.flatten()`` or ``torch.flatten(t)``: every axis, the batch axis too."""
    if _name_of(call.func) != "flatten" or call.keywords:
        return False
    return len(call.args) == (1 if case.segment(call.func) == "torch.flatten" else 0)


def unpacked_whole(case: Case) -> str | None:
    """``image, label = train_set`` or ``images, labels = loader``: one item was meant."""
    found = re.match(r"too many values to unpack \(expected (\d+)\)", case.message)
    tree = _parse_line(case.text)
    assign = tree.body[0] if tree is not None and tree.body else None
    if found is None or not isinstance(assign, ast.Assign) \
            or not isinstance(assign.value, ast.Name):
        return None
    name, line = assign.value.id, case.error.line or 0
    made = [n for n in case.nodes() if isinstance(n, ast.Assign) and n.lineno < line
            and any(isinstance(t, ast.Name) and t.id == name for t in n.targets)]
    value = max(made, key=lambda n: n.lineno).value if made else None
    maker = _name_of(value.func) if isinstance(value, ast.Call) else ""
    targets = ast.get_source_segment(case.text, assign.targets[0])
    if maker == "DataLoader":
        return (f"`{name}` is the whole DataLoader, which gives its batches one at a time: take "
                f"the first with `{targets} = next(iter({name}))`.")
    if maker in DATASETS or maker.endswith("Dataset"):
        return (f"`{name}` is the whole data set, and unpacking it takes all its items apart: "
                f"take one example by its index, `{targets} = {name}[0]`.")
    return None


# --------------------------------------------------------------------------- shapes


def argmax_axis(case: Case) -> str | None:
    """``preds.argmax(dim=0)`` compared with ``labels``: the axis of the classes is 1."""
    for operand in case.error.operands:
        found = re.fullmatch(r"(.+)\.argmax\((?:dim=)?0\)", operand.text)
        if found is None or operand.within or operand.shape is None:
            continue
        scores = case.tensor(found.group(1))
        if scores is None or scores.shape is None or len(scores.shape) != 2:
            continue
        rows, columns = scores.shape
        others = [o for o in case.tensors() if o is not operand and o.shape == (rows,)]
        if others and rows != columns:
            return (f"`{operand.text}` takes the largest value down each of the {columns} "
                    f"columns; `{found.group(1)}.argmax(dim=1)` gives one class for each of the "
                    f"{rows} rows, like `{others[0].text}`.")
    return None


def layer_input(case: Case) -> str | None:
    """A ``Linear`` layer given inputs whose last size is not its ``in_features``."""
    if "shapes cannot be multiplied" not in case.message:
        return None
    layer = next((o for o in case.error.operands if o.type == "Linear"), None)
    inputs = case.tensors()
    if layer is None or len(inputs) != 1 or not inputs[0].shape:
        return None
    features = re.search(r"in_features=(\d+)", layer.detail)
    if features is None:
        return None
    wanted = int(features.group(1))
    x = inputs[0]
    shape = x.shape or ()
    has = shape[-1]
    if has == wanted:
        return None
    said = (f"`{layer.text}` expects inputs whose last axis has {wanted} values (its "
            f"`in_features`), but `{x.text}` is [{', '.join(map(str, shape))}]")
    if len(shape) > 2 and math.prod(shape[1:]) == wanted:
        return (f"{said}: flatten each example first, `{x.text}.flatten(1)`, to make it "
                f"[{shape[0]}, {wanted}].")
    total = math.prod(shape)
    if len(shape) >= 2 and total % wanted == 0 and wanted in shape[:-1]:
        # [192, 3] from `reshape(192, -1)`: the values are in batch order, the labels not.
        return (f"{said}: it holds {total} values, {wanted} for each of {total // wanted} "
                f"examples, so put the batch first: `.reshape(-1, {wanted})` gives "
                f"[{total // wanted}, {wanted}] (-1 is computed from the rest).")
    return (f"{said}: make `in_features` {has}, or change what comes before so each row "
            f"has {wanted} values.")


def matmul_sizes(case: Case) -> str | None:
    """``a @ b`` whose inner sizes differ."""
    if "shapes cannot be multiplied" not in case.message or "@" not in case.error.expression:
        return None
    operands = case.tensors()
    if len(operands) != 2 or not all(o.shape and len(o.shape) == 2 for o in operands):
        return None
    a, b = operands
    (n, k), (m, p) = a.shape or (), b.shape or ()
    said = (f"For `{a.text} @ {b.text}`, the last size of `{a.text}` ({k}) must equal the first "
            f"size of `{b.text}` ({m}).")
    if k == p:
        said += (f" `{a.text} @ {b.text}.T` would fit ([{n}, {k}] @ [{p}, {m}]): is `{b.text}` "
                 "stored the other way round?")
    elif n == m:
        said += (f" `{a.text}.T @ {b.text}` would fit ([{k}, {n}] @ [{m}, {p}]): is `{a.text}` "
                 "stored the other way round?")
    return said


def view_size(case: Case) -> str | None:
    """``x.view(...)`` or ``x.reshape(...)`` to a shape that holds another number of values."""
    found = re.match(r"shape '\[([-\d, ]*)\]' is invalid for input of size (\d+)", case.message)
    if found is None:
        return None
    size = int(found.group(2))
    holder = next((o for o in case.tensors() if o.shape is not None
                   and math.prod(o.shape) == size), None)
    what = (f"`{holder.text}` holds {size} values ([{', '.join(map(str, holder.shape or ()))}])"
            if holder is not None else f"The tensor holds {size} values")
    sizes = [int(n) for n in re.findall(r"-?\d+", found.group(1))]
    low = _lowest_byte_only(sizes, size)
    if low:
        return f"{what}, and the shape [{found.group(1)}] cannot hold that many. {low}"
    swapped = _bytes_swapped(sizes)
    if swapped:
        return (f"{what}, and the shape [{found.group(1)}] is far too large: read with their "
                f"4 bytes the other way round, these sizes are {swapped}. A file that stores "
                "its numbers most significant byte first (big-endian, as IDX files do) needs "
                "`int.from_bytes(data[i:i + 4], \"big\")`.")
    return (f"{what}, and the shape [{found.group(1)}] cannot hold exactly that many: the sizes "
            "you give must multiply to it (write -1 for the one size you want computed).")


def _lowest_byte_only(sizes: list[int], total: int) -> str:
    """A size that is the lowest byte of the one that would fit: a 4-byte number of which
    only the last byte was read (`data[7]` for `data[4:8]`)."""
    for k, n in enumerate(sizes):
        others = math.prod(s for j, s in enumerate(sizes) if j != k)
        if 0 < n < 256 and others > 0 and total % others == 0:
            fits = total // others
            if fits > 255 and fits % 256 == n:
                return (f"The size at position {k} would have to be {fits:,}, whose lowest byte "
                        f"is {n}: is only the last of its 4 bytes read? Read all four, "
                        "`int.from_bytes(data[i:i + 4], \"big\")`.")
    return ""


def _bytes_swapped(sizes: list[int]) -> list[int] | None:
    """The sizes with their 4 bytes reversed, when that turns huge numbers into small ones:
    a big-endian count read as little-endian."""
    if not sizes or any(n <= 0 or n >= 2**32 for n in sizes) or max(sizes) < 2**24:
        return None
    swapped = [int.from_bytes(n.to_bytes(4, "little"), "big") for n in sizes]
    return swapped if max(swapped) < 2**20 else None


def empty_buffer(case: Case) -> str | None:
    """``torch.frombuffer`` on zero bytes: the slice starts at or past the end."""
    if "both buffer length (0) and count" not in case.message:
        return None
    call = re.search(r"frombuffer\((.*?)(?:,\s*dtype|\)$)", case.text)
    what = f"`{call.group(1).strip()}`" if call else "The buffer"
    return (f"{what} is empty (0 bytes), so there is nothing to read: the slice starts at or "
            "past the end of the data. Check where the data starts (after a header of how "
            "many bytes?) for this file.")


def bincount_length(case: Case) -> str | None:
    """``counts += torch.bincount(x)``: bincount's length follows the largest value."""
    found = re.match(r"The size of tensor a \((\d+)\) must match the size of tensor b "
                     r"\((\d+)\)", case.message)
    call = re.search(r"bincount\(([^()]*)\)", case.text)
    if found is None or call is None or "minlength" in call.group(1):
        return None
    # the counts the learner adds to are the longer one: bincount stopped at the largest label
    wanted, got = max(found.groups(), key=int), min(found.groups(), key=int)
    return (f"`torch.bincount({call.group(1)})` has one count per value up to the largest "
            f"value in it ({got} here), not always {wanted}: pass "
            f"`minlength={wanted}` so it always has {wanted} counts.")


def cat_sizes(case: Case) -> str | None:
    """``torch.cat`` on tensors that differ in an axis other than the one joined."""
    found = re.match(r"Sizes of tensors must match except in dimension (\d+)", case.message)
    if found is None:
        return None
    axis = int(found.group(1))
    shapes = [o for o in case.tensors() if o.shape]
    if len(shapes) < 2:
        return (f"`torch.cat` joins tensors along axis {axis}: every other axis must have the "
                "same size in all of them.")
    listed = " and ".join(f"`{o.text}` is {_shape(o.shape)}" for o in shapes[:3])
    said = (f"`torch.cat` joins along axis {axis}, so every other axis must have the same "
            f"size, but {listed}.")
    ranks = {len(o.shape or ()) for o in shapes}
    if len(ranks) == 1:
        differ = [k for k in range(ranks.pop()) if len({(o.shape or ())[k] for o in shapes}) > 1]
        if len(differ) == 1 and differ[0] != axis:
            joined = list(shapes[0].shape or ())
            joined[differ[0]] = sum((o.shape or ())[differ[0]] for o in shapes)
            said += (f" Joining along axis {differ[0]} (`dim={differ[0]}`) would fit, giving "
                     f"{_shape(tuple(joined))}: is that the axis you meant?")
    return said


def _shape(shape: tuple[int, ...] | None) -> str:
    return "[" + ", ".join(map(str, shape or ())) + "]"


def recursion(case: Case) -> str | None:
    """A function that calls itself without end."""
    looping = next((f for f in case.error.frames if f.repeats >= 10), None)
    if case.error.type != "RecursionError" or looping is None:
        return None
    name = looping.name or "your code"
    return (f"`{name}` calls itself over and over (line {looping.line}) until Python gives up: "
            "make sure it stops, or that it calls what you meant rather than itself (in a "
            "module's `forward`, call the layers, not `self(...)`).")


def missing_import(case: Case) -> str | None:
    """``nn``, ``F``, ``torch``... used without importing them."""
    found = re.match(r"name '(\w+)' is not defined$", case.message)
    imports = {"torch": "import torch", "nn": "import torch.nn as nn",
               "F": "import torch.nn.functional as F", "optim": "import torch.optim as optim",
               "np": "import numpy as np", "transforms": "from torchvision import transforms",
               "DataLoader": "from torch.utils.data import DataLoader",
               "Dataset": "from torch.utils.data import Dataset"}
    if case.error.type != "NameError" or found is None or found.group(1) not in imports:
        return None
    return f"Add `{imports[found.group(1)]}` at the top of your file."


def syntax(case: Case) -> str | None:
    """A syntax error whose likely cause is indentation."""
    if case.error.type not in ("SyntaxError", "IndentationError", "TabError"):
        return None
    return syntax_hint(case.message, case.error.line, case.source)


def _s(items: list[str]) -> str:
    return "s" if len(items) != 1 else ""


# --------------------------------------------------------------------------- syntax

OUTSIDE = re.compile(r"'(return|yield|await)' outside (?:async )?function|'(break)' outside "
                     r"loop|'(continue)' not properly in loop")


def syntax_hint(message: str, line: int | None, source: str) -> str | None:
    """When indentation is the likely cause of a syntax error, which line and how."""
    lines = source.splitlines()
    if not line or line > len(lines):
        return None
    text = lines[line - 1]
    indent = _indent(text)
    outside = OUTSIDE.search(message)
    if outside is not None:
        return _not_indented(lines, line, outside.group(1) is not None)
    if "unexpected indent" in message:
        return (f"Line {line} is indented more than the line before it, which does not open a "
                "block (only a line ending in `:` does): remove the extra spaces.")
    if "unindent does not match any outer indentation level" in message:
        return (f"Line {line} is indented by {indent} spaces, which lines it up with no block "
                "above it: indent it exactly as far as the lines it belongs with.")
    opened = re.search(r"expected an indented block after .*? on line (\d+)", message)
    if opened is not None:
        return (f"The lines after line {opened.group(1)} are its body and must be indented "
                "more than it (by 4 spaces).")
    if "inconsistent use of tabs and spaces" in message and _mixed_tabs(lines):
        return ("This file indents some lines with tabs and others with spaces: use 4 spaces "
                "everywhere.")
    return None


def _not_indented(lines: list[str], line: int, function: bool) -> str | None:
    """``return`` (or ``break``...) right after a body, at the body's opener's level."""
    indent = _indent(lines[line - 1])
    above = [(k, lines[k - 1]) for k in range(line - 1, 0, -1)
             if lines[k - 1].strip() and not lines[k - 1].lstrip().startswith("#")]
    if not above or _indent(above[0][1]) <= indent:
        return None  # the line before is not a deeper body: no sign of a missing indent
    opener = re.compile(r"\s*(?:async\s+)?def\b" if function else r"\s*(?:for|while)\b")
    for k, text in above:
        if _indent(text) <= indent:
            if not opener.match(text):
                return None
            body = _body_indent(lines, k)
            what = "the function" if function else "the loop"
            return (f"Indentation is the likely cause: line {line} is not indented under "
                    f"`{text.strip()}` (line {k}), so Python reads it as outside {what}. Indent "
                    f"it by {body - indent} more spaces, like the lines of the body.")
    return None


def _body_indent(lines: list[str], header: int) -> int:
    base = _indent(lines[header - 1])
    for text in lines[header:]:
        if text.strip() and _indent(text) > base:
            return _indent(text)
    return base + 4


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip())


def _mixed_tabs(lines: list[str]) -> bool:
    leading = [t[: _indent(t)] for t in lines if t.strip()]
    return any("\t" in w for w in leading) and any(" " in w for w in leading)


# --------------------------------------------------------------------------- calls


ITERABLE = frozenset(("DataLoader", "list", "tuple", "range", "dict", "str", "Tensor"))
PROPERTIES = ("shape", "ndim", "dtype", "device", "T", "data", "grad", "is_leaf",
              "requires_grad", "real", "imag")
NOT_CALLABLE = re.compile(r"'(?:int|torch\.Size|torch\.dtype|torch\.device|Tensor|bool|"
                          r"NoneType)' object is not callable")


def numbers_without_a_list(case: Case) -> str | None:
    """``torch.tensor(2, 4, 6)``: the numbers must be one argument, a list."""
    found = re.match(r"tensor\(\) takes 1 positional argument but (\d+) were given",
                     case.message)
    if found is None:
        return None
    call = re.search(r"torch\.tensor\(([^()]*)\)", case.text)
    listed = f"torch.tensor([{call.group(1)}])" if call else "torch.tensor([...])"
    return (f"`torch.tensor` takes the data as one argument, and it got {found.group(1)}: put "
            f"the numbers in a list, `{listed}`.")


def property_called(case: Case) -> str | None:
    """``t.ndim()`` or ``t.shape()``: a property is a value, not a function."""
    if case.error.type != "TypeError" or not NOT_CALLABLE.search(case.message):
        return None
    for node in case.on_failing_line():
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and (
                node.func.attr in PROPERTIES) and not node.args and not node.keywords:
            text = case.segment(node.func)
            return (f"`{text}` is a value, not a function: drop the parentheses, `{text}` "
                    f"instead of `{text}()`.")
    return None


def in_place_cast(case: Case) -> str | None:
    """``images.div_(255)`` on uint8: an in-place result must fit the tensor's own dtype."""
    found = re.search(r"result type (\w+) can't be cast to the desired output type (\w+)",
                      case.message)
    if found is None:
        return None
    for node in case.on_failing_line():
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and (
                node.func.attr.endswith("_") and not node.func.attr.startswith("_")):
            text, plain = case.segment(node), node.func.attr[:-1]
            target = case.segment(node.func.value)
            return (f"`{text}` works in place, so its result must fit `{target}`'s own dtype "
                    f"({found.group(2)}), and a {found.group(1)} result does not: use "
                    f"`{target}.{plain}(...)` (or an operator such as `/`), which makes a new "
                    "tensor of the right dtype.")
    return None


def numpy_method_on_tensor(case: Case) -> str | None:
    """``t.astype(...)`` and other numpy methods on a tensor."""
    found = re.match(r"'Tensor' object has no attribute '(astype|copy)'", case.message)
    if found is None:
        return None
    if found.group(1) == "copy":
        copied = case.error.expression.strip()
        fixed = f"`{copied[:-len('.copy')]}.clone()`" if copied.endswith(".copy") else "`.clone()`"
        return (f"A tensor is copied with `.clone()`: {fixed} (`.copy_(other)` copies another "
                "tensor's values into this one).")
    return ("`.astype` is numpy's: a tensor converts with `.float()`, `.long()` or "
            "`.to(torch.float32)`.")


def for_over_a_number(case: Case) -> str | None:
    """``for _ in repeats:`` with ``repeats`` an int (or ``for i in len(xs):``)."""
    if case.error.type != "TypeError" or case.message != "'int' object is not iterable":
        return None
    tree = _parse_line(case.text)
    loop = tree.body[0] if tree is not None and tree.body else None
    if not isinstance(loop, ast.For):
        return None
    over = loop.iter
    text = ast.get_source_segment(case.text, over) or ""
    if isinstance(over, ast.Call) and isinstance(over.func, ast.Name) \
            and over.func.id == "len" and len(over.args) == 1 and not over.keywords:
        items = ast.get_source_segment(case.text, over.args[0])
        return (f"`{text}` is a number, and `for` needs something to go through: loop over "
                f"`range({text})` for the positions, or over `{items}` itself for its items.")
    if not isinstance(over, (ast.Name, ast.Attribute)) or not _dotted(over) \
            or _made_from_a_class(case, text):
        return None
    return (f"`{text}` is a number (an `int`), and `for` needs something to go through: to "
            f"repeat that many times, loop over `range({text})`.")


def _dotted(node: ast.expr) -> bool:
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)


def _made_from_a_class(case: Case, name: str) -> bool:
    """``loader = DataLoader(...)``: an object whose own iteration met the int, not an int."""
    return any(isinstance(n, ast.Assign) and any(case.segment(t) == name for t in n.targets)
               and isinstance(n.value, ast.Call) and _name_of(n.value.func)[:1].isupper()
               for n in case.nodes())


def next_without_iter(case: Case) -> str | None:
    """``next(loader)``: a DataLoader (or a list) is iterable, not an iterator."""
    found = re.match(r"'(\w+)' object is not an iterator$", case.message)
    call = case.call
    if found is None or found.group(1) not in ITERABLE or call is None \
            or not isinstance(call.func, ast.Name) or call.func.id != "next" \
            or len(call.args) != 1 or call.keywords:
        return None
    text = case.said(call.args[0])
    return (f"`{text}` is a `{found.group(1)}`: `for` can go through it, but `next` needs an "
            f"iterator, so make one first, `next(iter({text}))` (each `iter(...)` starts again "
            "from the beginning).")


def tensors_not_in_a_tuple(case: Case) -> str | None:
    """``torch.cat(a, b)``: the tensors go in as one argument, a tuple or a list."""
    found = re.match(r"(\w+)\(\): argument 'tensors' \(position 1\) must be tuple of Tensors, "
                     r"not Tensor", case.message)
    call = case.call
    if found is None or call is None or _name_of(call.func) != found.group(1):
        return None
    tensors = []
    for arg in call.args:
        if case.tensor(case.said(arg)) is None:
            break
        tensors.append(case.said(arg))
    if len(tensors) < 2:
        return None
    rest = [case.said(a) for a in call.args[len(tensors):]]
    rest += [case.said(k) for k in call.keywords]
    written = case.said(call.func)
    fixed = f"{written}(({', '.join(tensors)}){''.join(', ' + r for r in rest)})"
    return (f"`{written}` takes the tensors as one argument, a tuple or a list: put them in "
            f"parentheses, `{fixed}`.")


# Methods that give what a loop goes through: used without `()`, they are the method itself.
ITERATING_METHODS = frozenset(("parameters", "named_parameters", "children", "named_children",
                               "modules", "named_modules", "buffers", "items", "keys", "values"))


def method_not_called(case: Case) -> str | None:
    """``for p in model.parameters:`` or ``Adam(network.parameters, ...)``: no ``()``."""
    if case.message != "'method' object is not iterable":
        return None
    tree = case.failing if case.failing is not None else _parse_line(case.text)
    text = case.error.expression.strip() if case.failing is not None else case.text
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)} if tree else set()
    bare = {ast.get_source_segment(text, n) for n in (ast.walk(tree) if tree else ())
            if isinstance(n, ast.Attribute) and n.attr in ITERATING_METHODS
            and id(n) not in called}
    if len(bare) != 1:
        return None
    written = bare.pop()
    return (f"`{written}` is the method itself: call it, `{written}()`, to get what it "
            "gives.")


def returned_none(case: Case) -> str | None:
    """``make_batch(4, 0)[1]`` or ``for run in get_runs(params):`` where the function has
    no ``return``: its result is None."""
    found = re.match(r"'NoneType' object (is not (?:subscriptable|iterable)|has no attribute)",
                     case.message)
    if found is None or case.tree is None:
        return None
    used = _none_used(case)
    if used is None:
        return None
    function = next((n for n in case.nodes() if isinstance(n, ast.FunctionDef)
                     and n.name == _name_of(used.func)), None)
    if function is None or any(isinstance(n, ast.Return) and n.value is not None
                               for n in ast.walk(function)):
        return None
    return (f"`{function.name}` (line {function.lineno}) has no `return`, so "
            f"`{case.segment(used)}` gives None: end it with `return` and its result.")


def _none_used(case: Case) -> ast.Call | None:
    """The call whose result (None) the failing line indexes, loops over or reads an
    attribute of: there, or where the name it is read from was last set."""
    expression, line = case.error.expression.strip(), case.error.line or 0
    for node in case.on_failing_line():
        if isinstance(node, (ast.Subscript, ast.Attribute)) and expression \
                and case.segment(node) == expression:
            value = node.value
        elif isinstance(node, ast.For) and "iterable" in case.message:
            value = node.iter
        else:
            continue
        if isinstance(value, ast.Name):
            made = [n for n in case.nodes() if isinstance(n, ast.Assign)
                    and n.lineno < line and len(n.targets) == 1
                    and isinstance(n.targets[0], ast.Name) and n.targets[0].id == value.id]
            value = max(made, key=lambda n: n.lineno).value if made else value
        return value if isinstance(value, ast.Call) else None
    return None


def str_returns_nothing(case: Case) -> str | None:
    """``def __str__(self): print(...)``: ``print`` shows the text, and returns None."""
    found = re.match(r"(__str__|__repr__) returned non-string \(type NoneType\)", case.message)
    if found is None:
        return None
    defined = {n.name for n in case.nodes() if isinstance(n, ast.FunctionDef)}
    name = "__repr__" if found.group(1) not in defined else found.group(1)  # str() falls back
    methods = [n for n in case.nodes() if isinstance(n, ast.FunctionDef) and n.name == name
               and not any(isinstance(r, ast.Return) and r.value is not None
                           for r in ast.walk(n))]
    if len(methods) != 1:
        return None
    method = methods[0]
    prints = any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                 and n.func.id == "print" for n in ast.walk(method))
    said = "prints its text but returns nothing" if prints else "has no `return`"
    return (f"`{name}` (line {method.lineno}) {said}: Python needs the text back, so "
            f"`return` the string{' instead of printing it' if prints else ''}.")


def dataset_without_len(case: Case) -> str | None:
    """``len(dataset)`` on a class of the learner's with no ``__len__`` (or a misspelt one)."""
    found = re.match(r"object of type '(\w+)' has no len\(\)", case.message)
    cls = next((n for n in case.nodes() if isinstance(n, ast.ClassDef)
                and found is not None and n.name == found.group(1)), None)
    if found is None or cls is None:
        return None
    methods = [f for f in cls.body if isinstance(f, ast.FunctionDef)]
    if any(f.name == "__len__" for f in methods):
        return None
    near = next((f for f in methods if f.name.strip("_").lower() in ("len", "length")), None)
    if near is not None:
        return (f"`{cls.name}` has no `__len__`: the method on line {near.lineno} is spelled "
                f"`{near.name}`, so `len(...)` never calls it. Rename it `__len__`.")
    return (f"`{cls.name}` defines no `__len__`, which `len(...)` calls: add `def "
            "__len__(self):` returning how many items it holds.")


def number_has_no_backward(case: Case) -> str | None:
    """``loss = ....item()`` then ``loss.backward()``: a Python number keeps no graph."""
    found = re.match(r"'(?:float|int)' object has no attribute 'backward'", case.message)
    called = re.search(r"(\w+)\.backward\(", case.text)
    line = case.error.line or 0
    if found is None or called is None:
        return None
    made = [n for n in case.nodes() if isinstance(n, ast.Assign) and n.lineno < line
            and any(isinstance(t, ast.Name) and t.id == called.group(1) for t in n.targets)]
    last = max(made, key=lambda n: n.lineno) if made else None
    if last is None or ".item()" not in case.segment(last.value):
        return None
    return (f"`{called.group(1)}` is a Python number: line {last.lineno} makes it with "
            "`.item()`, which keeps nothing for autograd. Keep the tensor for `.backward()` "
            "(drop `.item()` there), and use `.item()` only to print or record the value.")


RULES: tuple[Rule, ...] = (
    syntax, misspelt_init, transform_without_parens, class_without_parens,
    method_called_on_class, self_passed_twice, method_without_self, parent_init_arguments,
    super_without_parens, tuple_not_unpacked, object_not_callable, swapped_arguments,
    list_of_tensors, item_of_many, cuda_call_without_gpu, no_gpu, move_not_kept, unpickling,
    offline_download, no_grad, state_dict_mismatch, not_a_module, layer_class_applied,
    batch_norm_channels, tensor_as_parameter, weights_called, load_state_dict_result,
    cross_entropy_swapped, bce_range, zero_grad_on_a_tensor, grad_is_none, argmax_axis,
    batch_axis_flattened, batch_axis_reshaped, layer_input, matmul_order, matmul_sizes,
    bincount_length, view_size, empty_buffer, cat_sizes, recursion, missing_import, numbers_without_a_list, property_called,
    in_place_cast, numpy_method_on_tensor, for_over_a_number, next_without_iter,
    tensors_not_in_a_tuple, method_not_called, returned_none, str_returns_nothing,
    dataset_without_len, number_has_no_backward, unpacked_whole,
)


def _all_rules() -> tuple[Rule, ...]:
    """These rules, then Python's own mistakes (classes, `self`, data sets): that module
    builds on this one, so it is imported when the rules first run."""
    from tutor.core import python_hints

    first = tuple(r for r in python_hints.RULES if r is python_hints.transform_given_data)
    rest = tuple(r for r in python_hints.RULES if r not in first)
    return (*first, *RULES, *rest)  # `ToTensor(image)` before "ToTensor without ()"
