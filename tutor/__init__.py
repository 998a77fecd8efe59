"""pytorch-tutor: learn PyTorch hands-on in your terminal."""

__version__ = "0.1.0"
