"""The full-screen tutor: a Textual shell over ``tutor.core.session.Session``.

It holds no teaching logic of its own and never imports torch: every check runs in the
core's sandboxed child processes.
"""
