"""The regions of the step view, one widget per file, named after its class."""
